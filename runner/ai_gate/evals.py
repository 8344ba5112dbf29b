"""Evaluation runs: ingest a record file, judge it against the gates, store the verdict.

Ingestion is one transaction (the run row, then the run's partition of
ai_eval_samples: every sample by COPY while the file streams through validation,
the primary key, the attach); any problem rolls it back, so a rejected file writes
nothing. Judging reads the dbt view ai_eval_gate_results and records the
terminal status; a failure after ingestion marks the run `aborted`.
"""

from __future__ import annotations

import gc
import getpass
import hashlib
import json
import math
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import psycopg
import yaml
from psycopg import sql
from psycopg.rows import dict_row

from .database import Database
from .errors import InputRejected, NotBuilt, RuntimeFailure
from .records import SAMPLE_COLUMNS, SAMPLE_COPY_TYPES, Problem, Record, read_records

RUN_TYPES = ("offline", "canary", "scheduled")
TERMINAL_STATUSES = ("passed", "failed", "aborted")
MAX_REPORTED_PROBLEMS = 50
PROGRESS_EVERY = 50_000
METRICS = (
    "schema_valid_rate",
    "patch_apply_success",
    "edit_after_generate_rate",
    "publish_conversion_proxy",
    "safety_html_tailwind_compliance",
    "fallback_rate",
    "p95_latency_ms",
)
RATE_METRICS = METRICS[:-1]
LATENCY_GATE = "p95_latency_ms_max"


@dataclass(frozen=True)
class RunOptions:
    path: Path
    environment: str = "prod"
    run_type: str = "offline"
    thresholds_file: Path | None = None
    run_id: str | None = None
    strict: bool = False
    triggered_by: str | None = None
    ci_job_id: str | None = None
    git_sha: str | None = None
    is_synthetic: bool = False
    metadata: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class GateResult:
    gate: str
    metric: str
    comparator: str
    threshold: float
    observed: float | None
    status: str

    def as_json(self) -> dict[str, object]:
        return {
            "gate": self.gate,
            "metric": self.metric,
            "comparator": self.comparator,
            "threshold": self.threshold,
            "observed": self.observed,
            "status": self.status,
        }


@dataclass(frozen=True)
class EvalReport:
    """A stored run's verdict, read back from the database (all outputs use this)."""

    run_id: str
    status: str
    environment: str
    run_type: str
    strict: bool
    sample_count: int
    metrics: dict[str, float | None]
    metric_counts: dict[str, int]
    intervals: dict[str, tuple[float | None, float | None]]
    gates: list[GateResult]
    thresholds: dict[str, float | None]
    source_file: str
    source_sha256: str
    started_at: str
    finished_at: str | None
    metadata: dict[str, object]
    reused: bool = False

    def as_json(self) -> dict[str, object]:
        return {
            "run_id": self.run_id,
            "status": self.status,
            "environment": self.environment,
            "run_type": self.run_type,
            "strict": self.strict,
            "sample_count": self.sample_count,
            "metrics": {metric: self.metrics.get(metric) for metric in METRICS},
            "metric_counts": {metric: self.metric_counts.get(metric, 0) for metric in METRICS},
            "confidence_intervals": {
                metric: {"low": low, "high": high} for metric, (low, high) in self.intervals.items()
            },
            "gates": [gate.as_json() for gate in self.gates],
            "gates_switched_off": sorted(k for k, v in self.thresholds.items() if v is None),
            "source_file": self.source_file,
            "source_sha256": self.source_sha256,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
        }


def _relation(database: Database, name: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(database.schema), sql.Identifier(name))


def _not_built(database: Database, exc: psycopg.Error) -> NotBuilt:
    return NotBuilt(
        f"the eval tables do not exist in schema {database.schema} on {database.describe()}: "
        f"run `ai-gate build` first ({getattr(exc.diag, 'message_primary', exc)})"
    )


# --- thresholds ---------------------------------------------------------------------------


def gate_names(conn: psycopg.Connection, database: Database) -> list[str]:
    try:
        rows = conn.execute(
            sql.SQL("select gate from {} order by gate").format(
                _relation(database, "ai_eval_gate_definitions")
            )
        ).fetchall()
    except psycopg.errors.UndefinedTable as exc:
        raise _not_built(database, exc) from exc
    return [row[0] for row in rows]


def environment_thresholds(
    conn: psycopg.Connection, database: Database, environment: str
) -> dict[str, float | None]:
    rows = conn.execute(
        sql.SQL("select gate, threshold from {} where environment = %s").format(
            _relation(database, "ai_eval_thresholds")
        ),
        (environment,),
    ).fetchall()
    if not rows:
        known = conn.execute(
            sql.SQL("select distinct environment from {} order by 1").format(
                _relation(database, "ai_eval_thresholds")
            )
        ).fetchall()
        raise InputRejected(
            f"no gate thresholds for environment {environment!r} "
            f"(known: {', '.join(row[0] for row in known) or 'none'})"
        )
    return {gate: None if value is None else float(value) for gate, value in rows}


def load_threshold_overrides(path: Path, known_gates: list[str]) -> dict[str, float | None]:
    """Read a thresholds YAML file: a mapping of gate name to a number or null."""
    label = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputRejected(f"{label}: cannot read: {exc}") from exc
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{label}:{mark.line + 1}" if mark else label
        raise InputRejected(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    if root is None:
        raise InputRejected(f"{label}: empty; expected a mapping of gate name to threshold")
    if not isinstance(root, yaml.MappingNode):
        raise InputRejected(
            f"{label}:{root.start_mark.line + 1}: expected a mapping of gate name to threshold"
        )
    problems: list[str] = []
    overrides: dict[str, float | None] = {}
    for key_node, value_node in root.value:
        line = key_node.start_mark.line + 1
        gate = key_node.value
        if not isinstance(key_node, yaml.ScalarNode) or gate not in known_gates:
            problems.append(
                f"{label}:{line}: {gate}: unknown gate (known: {', '.join(known_gates)})"
            )
            continue
        if gate in overrides:
            problems.append(f"{label}:{line}: {gate}: given twice")
            continue
        if not isinstance(value_node, yaml.ScalarNode):
            problems.append(f"{label}:{line}: {gate}: must be a number or null")
            continue
        value = yaml.safe_load(yaml.serialize(value_node))
        if value is None:
            overrides[gate] = None
        elif isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"{label}:{line}: {gate}: must be a number or null, got {value!r}")
        elif not math.isfinite(value) or value < 0:
            problems.append(f"{label}:{line}: {gate}: must be a finite number >= 0, got {value}")
        elif gate != LATENCY_GATE and value > 1:
            problems.append(f"{label}:{line}: {gate}: a rate threshold must be <= 1, got {value}")
        else:
            overrides[gate] = float(value)
    if problems:
        raise InputRejected(f"{label}: thresholds rejected", problems)
    return overrides


# --- run identity -------------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as exc:
        raise InputRejected(f"{path}: cannot read: {exc.strerror or exc}") from exc
    return digest.hexdigest()


def default_run_id(
    source_sha256: str,
    environment: str,
    run_type: str,
    thresholds: dict[str, float | None],
    strict: bool,
) -> str:
    """Same file and same verdict-affecting options -> same run id."""
    identity = json.dumps(
        {
            "source_sha256": source_sha256,
            "environment": environment,
            "run_type": run_type,
            "thresholds": thresholds,
            "strict": strict,
        },
        sort_keys=True,
    )
    return "eval-" + hashlib.sha256(identity.encode()).hexdigest()[:24]


# --- ingest and judge ---------------------------------------------------------------------


def run_evaluation(
    database: Database,
    options: RunOptions,
    progress: TextIO | None = None,
    phase_seconds: dict[str, float] | None = None,
) -> EvalReport:
    """Validate, ingest, judge and store one record file; return the stored verdict.
    `phase_seconds`, if given, receives the time of each phase (hash, ingest, judge)."""
    phases = phase_seconds if phase_seconds is not None else {}
    started = time.perf_counter()
    if options.run_type not in RUN_TYPES:
        raise InputRejected(f"run type must be one of {', '.join(RUN_TYPES)}")
    with database.connect() as conn:
        known_gates = gate_names(conn, database)
        thresholds = environment_thresholds(conn, database, options.environment)
    if options.thresholds_file is not None:
        thresholds.update(load_threshold_overrides(options.thresholds_file, known_gates))
    source_sha256 = file_sha256(options.path)
    phases["hash"] = time.perf_counter() - started
    run_id = options.run_id or default_run_id(
        source_sha256, options.environment, options.run_type, thresholds, options.strict
    )
    existing = _existing_run(database, run_id)
    if existing is not None:
        _check_same_run(existing, run_id, source_sha256, options, thresholds)
        if existing["status"] in ("passed", "failed"):
            return replace_reused(load_report(database, run_id))
        # A run that was ingested but not judged (aborted, or its process died).
        return _judge(database, run_id)
    started = time.perf_counter()
    inserted = _ingest(database, options, run_id, source_sha256, thresholds, progress)
    phases["ingest"] = time.perf_counter() - started
    if not inserted:  # a concurrent process ingested the same run first
        existing = _existing_run(database, run_id)
        assert existing is not None
        _check_same_run(existing, run_id, source_sha256, options, thresholds)
        return replace_reused(load_report(database, run_id))
    started = time.perf_counter()
    report = _judge(database, run_id)
    phases["judge"] = time.perf_counter() - started
    return report


def replace_reused(report: EvalReport) -> EvalReport:
    from dataclasses import replace

    return replace(report, reused=True)


def _fetch_run(
    conn: psycopg.Connection, database: Database, run_id: str
) -> dict[str, object] | None:
    """The ai_eval_runs row of one run, or None."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            sql.SQL("select * from {} where run_id = %s").format(
                _relation(database, "ai_eval_runs")
            ),
            (run_id,),
        )
        return cur.fetchone()


def _existing_run(database: Database, run_id: str) -> dict[str, object] | None:
    with database.connect() as conn:
        try:
            return _fetch_run(conn, database, run_id)
        except psycopg.errors.UndefinedTable as exc:
            raise _not_built(database, exc) from exc


def _check_same_run(
    existing: dict[str, object],
    run_id: str,
    source_sha256: str,
    options: RunOptions,
    thresholds: dict[str, float | None],
) -> None:
    differences = []
    if existing["source_sha256"] != source_sha256:
        differences.append("the file content")
    if existing["environment"] != options.environment:
        differences.append("the environment")
    if existing["run_type"] != options.run_type:
        differences.append("the run type")
    stored = {k: (None if v is None else float(v)) for k, v in dict(existing["thresholds"]).items()}
    if stored != thresholds:
        differences.append("the thresholds")
    if existing["strict"] != options.strict:
        differences.append("the --strict setting")
    if differences:
        raise InputRejected(
            f"run id {run_id!r} already exists, and {', '.join(differences)} differ from "
            "this run's; nothing was written (choose another --run-id, or omit it)"
        )


def _ingest(
    database: Database,
    options: RunOptions,
    run_id: str,
    source_sha256: str,
    thresholds: dict[str, float | None],
    progress: TextIO | None,
) -> bool:
    """One transaction: the run row and every sample. False if the run id was taken."""
    label = str(options.path)
    problems: list[Problem] = []
    problem_count = 0
    columns = sql.SQL(", ").join(sql.Identifier(name) for name in ("run_id", *SAMPLE_COLUMNS))
    partition_name = run_partition_name(run_id)
    copy_statement = sql.SQL("copy {} ({}) from stdin (format binary)").format(
        _relation(database, partition_name), columns
    )
    show_progress = progress is not None and progress.isatty()
    triggered_by = options.triggered_by or os.environ.get("AI_GATE_ACTOR") or getpass.getuser()
    ci_job_id = options.ci_job_id or os.environ.get("GITHUB_RUN_ID") or os.environ.get("CI_JOB_ID")
    git_sha = options.git_sha or os.environ.get("GITHUB_SHA") or os.environ.get("CI_COMMIT_SHA")
    with database.connect() as conn:
        try:
            with conn.transaction():
                inserted = conn.execute(
                    sql.SQL(
                        "insert into {} (run_id, run_type, environment, triggered_by, ci_job_id,"
                        " git_sha, thresholds, strict, is_synthetic, status, source_file,"
                        " source_sha256, metadata)"
                        " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, 'running', %s, %s, %s)"
                        " on conflict (run_id) do nothing returning run_id"
                    ).format(_relation(database, "ai_eval_runs")),
                    (
                        run_id,
                        options.run_type,
                        options.environment,
                        triggered_by,
                        ci_job_id,
                        git_sha,
                        json.dumps(thresholds),
                        options.strict,
                        options.is_synthetic,
                        options.path.name,
                        source_sha256,
                        json.dumps(options.metadata),
                    ),
                ).fetchone()
                if inserted is None:
                    return False
                _create_run_partition(conn, database, partition_name, run_id)
                records = 0
                with (
                    _rare_collections(),
                    conn.cursor() as cur,
                    cur.copy(copy_statement) as copy,
                ):
                    copy.set_types(["text", *SAMPLE_COPY_TYPES])
                    for item in read_records(options.path, label):
                        if isinstance(item, Problem):
                            problem_count += 1
                            if len(problems) < MAX_REPORTED_PROBLEMS:
                                problems.append(item)
                            continue
                        if problem_count:
                            continue  # keep validating to report every problem; write nothing
                        copy.write_row((run_id, *item.row()))
                        records += 1
                        if show_progress and records % PROGRESS_EVERY == 0:
                            assert progress is not None
                            progress.write(f"\ringested {records:,} records")
                            progress.flush()
                    if problem_count:
                        raise _Rejected()
                _attach_run_partition(conn, database, partition_name, run_id)
                if show_progress and records >= PROGRESS_EVERY:
                    assert progress is not None
                    progress.write(f"\ringested {records:,} records\n")
        except _Rejected:
            raise _rejection(label, problems, problem_count) from None
        except psycopg.errors.UniqueViolation as exc:
            if exc.diag.constraint_name and "samples" in exc.diag.constraint_name:
                raise _rejection(label, *_duplicate_sample_ids(options.path, label)) from None
            raise
        except psycopg.errors.UndefinedTable as exc:
            raise _not_built(database, exc) from exc
    return True


def run_partition_name(run_id: str) -> str:
    """The ai_eval_samples partition holding one run's samples (a digest of the run
    id: run ids are free text, and a table name has at most 63 bytes)."""
    return "ai_eval_samples_" + hashlib.sha256(run_id.encode()).hexdigest()[:20]


def _create_run_partition(
    conn: psycopg.Connection, database: Database, name: str, run_id: str
) -> None:
    """A table for the run's samples, shaped like ai_eval_samples, with no index yet:
    COPY into it costs the server a fraction of inserting each sample into a primary
    key, and sorting then builds the key for a fraction of the difference (random
    sample ids gain most; ADR 0002 has the numbers)."""
    parent = _relation(database, "ai_eval_samples")
    kind = conn.execute(
        "select relkind from pg_catalog.pg_class where oid = to_regclass(%s)",
        (parent.as_string(conn),),
    ).fetchone()
    if kind is not None and kind[0] != "p":
        raise NotBuilt(
            f"ai_eval_samples in schema {database.schema} on {database.describe()} is not "
            "partitioned by run yet: run `ai-gate build` (it converts the table and keeps "
            "its rows)"
        )
    conn.execute(
        sql.SQL(
            "create table {} (like {} including defaults including constraints,"
            # the partition's bound, stated up front: attaching it then needs no scan
            " constraint {} check (run_id is not null and run_id = {}))"
        ).format(
            _relation(database, name),
            parent,
            sql.Identifier(f"{name}_run_id"),
            sql.Literal(run_id),
        )
    )


def _attach_run_partition(
    conn: psycopg.Connection, database: Database, name: str, run_id: str
) -> None:
    """Builds the run's primary key (a duplicate sample id fails here), hardens the
    table as every project table is (row-level security on, no privilege for anyone
    but its owner: it is read through ai_eval_samples), guards it against updates and
    deletes, and attaches it as the run's partition."""
    partition = _relation(database, name)
    conn.execute(
        sql.SQL("alter table {} add constraint {} primary key (run_id, sample_id)").format(
            partition, sql.Identifier(f"{name}_pkey")
        )
    )
    conn.execute(sql.SQL("alter table {} enable row level security").format(partition))
    # Supabase's default privileges grant every new table to its API roles.
    grantees = conn.execute(
        "select distinct case when acl.grantee = 0 then 'public'"
        " else quote_ident(roles.rolname) end"
        " from pg_catalog.pg_class as classes"
        " cross join lateral aclexplode(classes.relacl) as acl"
        " left join pg_catalog.pg_roles as roles on roles.oid = acl.grantee"
        " where classes.oid = %s::regclass and acl.grantee <> classes.relowner",
        (partition.as_string(conn),),
    ).fetchall()
    for (grantee,) in grantees:
        conn.execute(sql.SQL("revoke all on table {} from {}").format(partition, sql.SQL(grantee)))
    conn.execute(
        sql.SQL(
            "create trigger {} before update or delete or truncate on {}"
            " for each statement execute function {}()"
        ).format(
            sql.Identifier(f"{name}_append_only"),
            partition,
            _relation(database, "ai_eval_samples_reject_mutation"),
        )
    )
    conn.execute(
        sql.SQL("alter table {} attach partition {} for values in ({})").format(
            _relation(database, "ai_eval_samples"), partition, sql.Literal(run_id)
        )
    )


@contextmanager
def _rare_collections() -> Iterator[None]:
    """The ingest loop makes about ten objects per record and no cycles; at the
    default threshold the cyclic collector runs every 700 of them, re-walking a
    chunk's live records each time (about a tenth of the client's time)."""
    thresholds = gc.get_threshold()
    gc.set_threshold(100_000, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


class _Rejected(Exception):
    """Aborts the COPY and rolls the ingest transaction back."""


def _rejection(label: str, problems: list[Problem], count: int) -> InputRejected:
    lines = [problem.render() for problem in problems]
    if count > len(problems):
        lines.append(f"... and {count - len(problems)} more problems")
    noun = "problem" if count == 1 else "problems"
    return InputRejected(f"{label}: rejected, {count} {noun}; nothing was written", lines)


def _duplicate_sample_ids(path: Path, label: str) -> tuple[list[Problem], int]:
    """Only on the failure path: find every repeated sample_id with its lines."""
    first_seen: dict[str, int] = {}
    problems: list[Problem] = []
    count = 0
    for item in read_records(path, label):
        if not isinstance(item, Record):
            continue
        sample_id = str(item.values["sample_id"])
        if sample_id in first_seen:
            count += 1
            if len(problems) < MAX_REPORTED_PROBLEMS:
                problems.append(
                    Problem(
                        label,
                        item.line_number,
                        "sample_id",
                        f"duplicate {sample_id!r} (first on line {first_seen[sample_id]})",
                    )
                )
        else:
            first_seen[sample_id] = item.line_number
    return problems, count


def _judge(database: Database, run_id: str) -> EvalReport:
    """Record the terminal status the gate results imply, with a snapshot of the
    summary and gate rows it was decided from (so `check` reads one row); `aborted`
    if that fails."""
    try:
        with database.connect() as conn, conn.transaction():
            run = conn.execute(
                sql.SQL("select strict from {} where run_id = %s for update").format(
                    _relation(database, "ai_eval_runs")
                ),
                (run_id,),
            ).fetchone()
            assert run is not None
            summary, gates = _summary_and_gates(conn, database, run_id)
            failed = any(gate["status"] == "failed" for gate in gates)
            skipped = any(gate["status"] == "skipped" for gate in gates)
            status = "failed" if failed or (run[0] and skipped) else "passed"
            conn.execute(
                sql.SQL(
                    "update {} set status = %s, finished_at = clock_timestamp(), verdict = %s"
                    " where run_id = %s"
                ).format(_relation(database, "ai_eval_runs")),
                (status, json.dumps({"summary": summary, "gates": gates}), run_id),
            )
    except (psycopg.Error, KeyboardInterrupt) as exc:
        _abort(database, run_id, exc)
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise RuntimeFailure(f"judging run {run_id} failed; it is marked aborted: {exc}") from exc
    return load_report(database, run_id)


def _summary_and_gates(
    conn: psycopg.Connection, database: Database, run_id: str
) -> tuple[dict[str, object], list[dict[str, object]]]:
    """One run's summary row and gate rows, from the dbt views, as JSON-ready dicts.
    The gate view is computed from the summary row, so it is computed once here."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            sql.SQL("select * from {} where run_id = %s").format(
                _relation(database, "ai_eval_run_summary_v1")
            ),
            (run_id,),
        )
        summary = cur.fetchone() or {}
        cur.execute(
            sql.SQL(
                "select gate, metric, comparator, threshold, observed, status from {}"
                " where run_id = %s order by gate"
            ).format(_relation(database, "ai_eval_gate_results")),
            (run_id,),
        )
        gates = [{**gate, "threshold": float(gate["threshold"])} for gate in cur.fetchall()]
    keep = (
        "sample_count",
        *(f"{metric}{suffix}" for metric in METRICS for suffix in ("", "_count")),
        *(f"{m}_ci_{bound}" for m in RATE_METRICS for bound in ("low", "high")),
    )
    return {key: summary.get(key) for key in keep}, gates


def _abort(database: Database, run_id: str, exc: BaseException) -> None:
    error = f"{type(exc).__name__}: {exc}".strip()
    try:
        with database.connect() as conn, conn.transaction():
            conn.execute(
                sql.SQL(
                    "update {} set status = 'aborted', finished_at = clock_timestamp(),"
                    " metadata = metadata || jsonb_build_object('error', %s::text)"
                    " where run_id = %s and status = 'running'"
                ).format(_relation(database, "ai_eval_runs")),
                (error, run_id),
            )
    except Exception as abort_error:  # the database may be what failed; say so, keep going
        sys.stderr.write(f"ai-gate: could not mark run {run_id} aborted: {abort_error}\n")


# --- reading verdicts back ---------------------------------------------------------------


def latest_run_id(database: Database, environment: str | None) -> str:
    with database.connect() as conn:
        try:
            row = conn.execute(
                sql.SQL(
                    "select run_id from {} where %(env)s::text is null or environment = %(env)s"
                    " order by started_at desc, run_id desc limit 1"
                ).format(_relation(database, "ai_eval_runs")),
                {"env": environment},
            ).fetchone()
        except psycopg.errors.UndefinedTable as exc:
            raise _not_built(database, exc) from exc
    if row is None:
        where = f" for environment {environment!r}" if environment else ""
        raise InputRejected(f"no evaluation runs{where}")
    return str(row[0])


def load_report(database: Database, run_id: str) -> EvalReport:
    """A run's verdict: from the snapshot stored when it was judged, else (a run not
    judged yet, or aborted) computed from the views."""
    with database.connect() as conn:
        try:
            run = _fetch_run(conn, database, run_id)
            if run is None:
                raise InputRejected(f"no evaluation run {run_id!r}")
            verdict = run.get("verdict")
            if verdict:
                summary, gates = verdict["summary"], verdict["gates"]
            else:
                summary, gates = _summary_and_gates(conn, database, run_id)
        except psycopg.errors.UndefinedTable as exc:
            raise _not_built(database, exc) from exc
    results = sorted(
        (
            GateResult(
                g["gate"],
                g["metric"],
                g["comparator"],
                float(g["threshold"]),
                g["observed"],
                g["status"],
            )
            for g in gates
        ),
        key=lambda gate: (METRICS.index(gate.metric), gate.gate),
    )
    return EvalReport(
        run_id=run["run_id"],
        status=run["status"],
        environment=run["environment"],
        run_type=run["run_type"],
        strict=run["strict"],
        sample_count=int(summary.get("sample_count") or 0),
        metrics={metric: summary.get(metric) for metric in METRICS},
        metric_counts={metric: int(summary.get(f"{metric}_count") or 0) for metric in METRICS},
        intervals={
            m: (summary.get(f"{m}_ci_low"), summary.get(f"{m}_ci_high")) for m in RATE_METRICS
        },
        gates=results,
        thresholds={k: (None if v is None else float(v)) for k, v in run["thresholds"].items()},
        source_file=run["source_file"],
        source_sha256=run["source_sha256"],
        started_at=run["started_at"].isoformat(),
        finished_at=run["finished_at"].isoformat() if run["finished_at"] else None,
        metadata=dict(run["metadata"] or {}),
    )
