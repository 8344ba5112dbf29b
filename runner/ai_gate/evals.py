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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO, TextIO

import psycopg
import yaml
from psycopg import sql
from psycopg.rows import dict_row

from . import baseline
from .database import Database, first_line
from .errors import InputRejected, NotBuilt, RuntimeFailure
from .records import SAMPLE_COLUMNS, SAMPLE_COPY_TYPES, Problem, read_records
from .stats import z_one_sided

RUN_TYPES = ("offline", "canary", "scheduled")
# A run's final statuses: a verdict, given once (aborted is retried, not a verdict).
VERDICTS = ("passed", "failed", "inconclusive")
STDIN_LABEL = "<stdin>"
STAGING_TABLE = "ai_gate_incoming_samples"
# How long a run waits for a concurrent identical run (its run id, its verdict).
CONCURRENT_RUN_WAIT_SECONDS = 300.0
# A rejected line in the staging table: its sample_id and line, the rest null.
REJECTED_LINE_PADDING = (None,) * (len(SAMPLE_COLUMNS) - 2)
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
    # None: the environment's setting (ai_eval_thresholds.confidence), else point estimates
    confidence: float | None = None
    # a run id, or `latest-passed`: compare every rate metric with that run
    baseline: str | None = None


@dataclass(frozen=True)
class GateResult:
    gate: str
    metric: str
    comparator: str
    threshold: float
    observed: float | None
    status: str
    # under the confidence policy, the one-sided bounds the gate was judged on
    lower_bound: float | None = None
    upper_bound: float | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "gate": self.gate,
            "metric": self.metric,
            "comparator": self.comparator,
            "threshold": self.threshold,
            "observed": self.observed,
            "lower_bound": self.lower_bound,
            "upper_bound": self.upper_bound,
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
    gate_policy: dict[str, object] | None = None
    baseline: dict[str, object] | None = None  # baseline.as_json, when compared

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
            "gate_policy": self.gate_policy or {"policy": "point"},
            "baseline": self.baseline,
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


def gate_policy(confidence: float | None) -> dict[str, object] | None:
    """The stored gate policy for a confidence (None: point estimates)."""
    if confidence is None:
        return None
    if not 0.5 < confidence < 1:
        raise InputRejected(f"confidence must be between 0.5 and 1, got {confidence}")
    return {"policy": "confidence", "confidence": confidence, "z": z_one_sided(1 - confidence)}


def environment_confidence(
    conn: psycopg.Connection, database: Database, environment: str
) -> float | None:
    rows = conn.execute(
        sql.SQL(
            "select distinct confidence from {} where environment = %s and confidence is not null"
        ).format(_relation(database, "ai_eval_thresholds")),
        (environment,),
    ).fetchall()
    if len(rows) > 1:
        raise InputRejected(
            f"ai_eval_thresholds gives environment {environment!r} more than one confidence "
            f"({', '.join(str(row[0]) for row in rows)}); give one value on every row"
        )
    return float(rows[0][0]) if rows else None


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


def default_run_id(
    source_sha256: str,
    environment: str,
    run_type: str,
    thresholds: dict[str, float | None],
    strict: bool,
    policy: dict[str, object] | None = None,
    baseline_run_id: str | None = None,
) -> str:
    """Same file and same verdict-affecting options -> same run id. (A point-estimate
    run's identity has no policy in it, so its id is what it was before policies.)"""
    fields: dict[str, object] = {
        "source_sha256": source_sha256,
        "environment": environment,
        "run_type": run_type,
        "thresholds": thresholds,
        "strict": strict,
    }
    if policy is not None:
        fields["gate_policy"] = policy
    if baseline_run_id is not None:
        fields["baseline_run_id"] = baseline_run_id
    identity = json.dumps(fields, sort_keys=True)
    return "eval-" + hashlib.sha256(identity.encode()).hexdigest()[:24]


class _HashingReader:
    """A binary stream that hashes every byte read through it: the stored hash is of
    exactly the bytes that were validated and ingested, read once (a file appended to
    while it is read, a pipe, standard input)."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self.digest.update(data)
        return data

    def __enter__(self) -> _HashingReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self._raw.close()


def source_label(path: Path) -> str:
    return STDIN_LABEL if str(path) == "-" else str(path)


def _open_source(path: Path) -> _HashingReader:
    if str(path) == "-":
        return _HashingReader(os.fdopen(os.dup(sys.stdin.fileno()), "rb"))
    try:
        return _HashingReader(path.open("rb"))
    except OSError as exc:
        raise InputRejected(f"{path}: cannot read: {exc.strerror or exc}") from exc


# --- ingest and judge ---------------------------------------------------------------------


def run_evaluation(
    database: Database,
    options: RunOptions,
    progress: TextIO | None = None,
    phase_seconds: dict[str, float] | None = None,
) -> EvalReport:
    """Validate, ingest, judge and store one record file; return the stored verdict.
    `phase_seconds`, if given, receives the time of each phase (ingest, judge)."""
    phases = phase_seconds if phase_seconds is not None else {}
    if options.run_type not in RUN_TYPES:
        raise InputRejected(f"run type must be one of {', '.join(RUN_TYPES)}")
    with database.connect() as conn:
        known_gates = gate_names(conn, database)
        thresholds = environment_thresholds(conn, database, options.environment)
        confidence = options.confidence
        if confidence is None:
            confidence = environment_confidence(conn, database, options.environment)
    options = replace(options, confidence=confidence)
    if options.thresholds_file is not None:
        thresholds.update(load_threshold_overrides(options.thresholds_file, known_gates))
    started = time.perf_counter()
    run_id, existing = _ingest(database, options, thresholds, progress)
    phases["ingest"] = time.perf_counter() - started
    if existing is not None and existing["status"] in VERDICTS:
        return replace(load_report(database, run_id), reused=True)
    # Otherwise a run that was there already was ingested but not judged: aborted, its
    # process died, or another process is judging it now (_judge waits for that).
    started = time.perf_counter()
    report = _judge(database, run_id)
    phases["judge"] = time.perf_counter() - started
    return replace(report, reused=existing is not None)


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


def _check_same_run(
    existing: dict[str, object],
    run_id: str,
    source_sha256: str,
    options: RunOptions,
    thresholds: dict[str, float | None],
    baseline_id: str | None,
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
    if existing["is_synthetic"] != options.is_synthetic:
        differences.append("the synthetic flag")
    if existing.get("gate_policy") != gate_policy(options.confidence):
        differences.append("the gate policy (--confidence)")
    if baseline_id is not None and existing.get("baseline_run_id") != baseline_id:
        differences.append("the baseline")
    if differences:
        raise InputRejected(
            f"run id {run_id!r} already exists, and {', '.join(differences)} differ from "
            "this run's; nothing was written (choose another --run-id, or omit it)"
        )


def _ingest(
    database: Database,
    options: RunOptions,
    thresholds: dict[str, float | None],
    progress: TextIO | None,
) -> tuple[str, dict[str, object] | None]:
    """One transaction: stream the file once into a temporary table (validating and
    hashing it), then the run row and its samples. Returns the run id and, when the
    run was there already (same content and options), its row instead.

    Staging first is what lets the run id be a hash of the content read once, finds
    every repeated sample_id (a rejected line's too) without reading the file again,
    and keeps a rejected file from writing anything."""
    label = source_label(options.path)
    columns = sql.SQL(", ").join(sql.Identifier(name) for name in SAMPLE_COLUMNS)
    triggered_by = options.triggered_by or os.environ.get("AI_GATE_ACTOR") or getpass.getuser()
    ci_job_id = options.ci_job_id or os.environ.get("GITHUB_RUN_ID") or os.environ.get("CI_JOB_ID")
    git_sha = options.git_sha or os.environ.get("GITHUB_SHA") or os.environ.get("CI_COMMIT_SHA")
    with database.connect() as conn:
        try:
            with conn.transaction():
                # Bounded waits: an identical run being ingested by another process
                # holds its run id until it commits.
                conn.execute(f"set local lock_timeout = '{int(CONCURRENT_RUN_WAIT_SECONDS)}s'")
                conn.execute(
                    sql.SQL(
                        "create temporary table {} on commit drop as select {} from {} with no data"
                    ).format(
                        sql.Identifier(STAGING_TABLE),
                        columns,
                        _relation(database, "ai_eval_samples"),
                    )
                )
                with _open_source(options.path) as source:
                    problems, problem_count = _stage(conn, columns, source, label, progress)
                    source_sha256 = source.digest.hexdigest()
                if problem_count:
                    raise _rejection(label, *_with_duplicates(conn, problems, problem_count, label))
                policy = gate_policy(options.confidence)
                baseline_id = (
                    None
                    if options.baseline is None
                    else baseline.resolve(conn, database, options.baseline, options.environment)
                )
                run_id = options.run_id or default_run_id(
                    source_sha256,
                    options.environment,
                    options.run_type,
                    thresholds,
                    options.strict,
                    policy,
                    baseline_id,
                )
                existing = _fetch_run(conn, database, run_id)
                if existing is None:
                    inserted = conn.execute(
                        sql.SQL(
                            "insert into {} (run_id, run_type, environment, triggered_by,"
                            " ci_job_id, git_sha, thresholds, strict, is_synthetic, status,"
                            " source_file, source_sha256, metadata, gate_policy, baseline_run_id)"
                            " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, 'running', %s, %s, %s,"
                            " %s, %s)"
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
                            "stdin" if label == STDIN_LABEL else options.path.name,
                            source_sha256,
                            json.dumps(options.metadata),
                            None if policy is None else json.dumps(policy),
                            baseline_id,
                        ),
                    ).fetchone()
                    if inserted is None:  # a concurrent process committed it first
                        existing = _fetch_run(conn, database, run_id)
                if existing is not None:
                    _check_same_run(
                        existing, run_id, source_sha256, options, thresholds, baseline_id
                    )
                    return run_id, existing
                try:
                    with conn.transaction():  # a savepoint: a duplicate is reported, below
                        conn.execute(
                            sql.SQL(
                                # key order: each key lands beside the previous one
                                "insert into {} (run_id, {}) select %s, {} from {}"
                                " order by sample_id"
                            ).format(
                                _relation(database, "ai_eval_samples"),
                                columns,
                                columns,
                                sql.Identifier(STAGING_TABLE),
                            ),
                            (run_id,),
                        )
                except psycopg.errors.UniqueViolation:
                    raise _rejection(label, *_with_duplicates(conn, [], 0, label)) from None
        except psycopg.errors.LockNotAvailable as exc:
            raise RuntimeFailure(
                f"another process is ingesting the same run; gave up waiting after "
                f"{CONCURRENT_RUN_WAIT_SECONDS:g} s (nothing was written)"
            ) from exc
        except psycopg.errors.UndefinedTable as exc:
            raise _not_built(database, exc) from exc
    return run_id, None


def _stage(
    conn: psycopg.Connection,
    columns: sql.Composable,
    source: _HashingReader,
    label: str,
    progress: TextIO | None,
) -> tuple[list[Problem], int]:
    """COPY every valid record into the staging table; a rejected line with a usable
    sample_id goes in too, with schema_valid null (never null in a record), so
    duplicates count it. Returns the first problems and how many there were."""
    problems: list[Problem] = []
    problem_count = 0
    show_progress = progress is not None and progress.isatty()
    records = 0
    last_problem_line = None
    copy_statement = sql.SQL("copy {} ({}) from stdin (format binary)").format(
        sql.Identifier(STAGING_TABLE), columns
    )
    with _rare_collections(), conn.cursor() as cur, cur.copy(copy_statement) as copy:
        copy.set_types(list(SAMPLE_COPY_TYPES))
        for item in read_records(source, label):  # type: ignore[arg-type]
            if isinstance(item, Problem):
                problem_count += 1
                if len(problems) < MAX_REPORTED_PROBLEMS:
                    problems.append(item)
                if item.sample_id is not None and item.line != last_problem_line:
                    copy.write_row((item.sample_id, item.line, *REJECTED_LINE_PADDING))
                    last_problem_line = item.line
                continue
            copy.write_row(item)
            records += 1
            if show_progress and records % PROGRESS_EVERY == 0:
                assert progress is not None
                progress.write(f"\ringested {records:,} records")
                progress.flush()
    if show_progress and records >= PROGRESS_EVERY:
        assert progress is not None
        progress.write(f"\ringested {records:,} records\n")
    return problems, problem_count


def _with_duplicates(
    conn: psycopg.Connection, problems: list[Problem], count: int, label: str
) -> tuple[list[Problem], int]:
    """The problems plus every repeated sample_id in the staging table, in line order."""
    rows = conn.execute(
        sql.SQL(
            "select sample_id, line_number, first_line from ("
            " select sample_id, line_number,"
            " min(line_number) over (partition by sample_id) as first_line"
            " from {}) as lines where line_number > first_line order by line_number"
        ).format(sql.Identifier(STAGING_TABLE))
    ).fetchall()
    duplicates = [
        Problem(label, line, "sample_id", f"duplicate {sample_id!r} (first on line {first})")
        for sample_id, line, first in rows[:MAX_REPORTED_PROBLEMS]
    ]
    merged = sorted(problems + duplicates, key=lambda problem: problem.line or 0)
    return merged[:MAX_REPORTED_PROBLEMS], count + len(rows)


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


def _rejection(label: str, problems: list[Problem], count: int) -> InputRejected:
    lines = [problem.render() for problem in problems]
    if count > len(problems):
        lines.append(f"... and {count - len(problems)} more problems")
    noun = "problem" if count == 1 else "problems"
    return InputRejected(f"{label}: rejected, {count} {noun}; nothing was written", lines)


def _judge(database: Database, run_id: str) -> EvalReport:
    """Record the terminal status the gate results imply, with a snapshot of the
    summary and gate rows it was decided from (so `check` reads one row); `aborted`
    if that fails or is interrupted. The run row is locked first: of two processes
    judging one run, the second waits and reports the first one's verdict."""
    try:
        with database.connect() as conn, conn.transaction():
            conn.execute(f"set local lock_timeout = '{int(CONCURRENT_RUN_WAIT_SECONDS)}s'")
            run = conn.execute(
                sql.SQL(
                    "select strict, status, baseline_run_id from {} where run_id = %s for update"
                ).format(_relation(database, "ai_eval_runs")),
                (run_id,),
            ).fetchone()
            assert run is not None
            if run[1] not in VERDICTS:
                summary, gates = _summary_and_gates(conn, database, run_id)
                verdict: dict[str, object] = {"summary": summary, "gates": gates}
                regressed = False
                if run[2] is not None:
                    comparison = baseline.as_json(
                        run[2], baseline.comparisons(conn, database, run[2], run_id)
                    )
                    verdict["baseline"] = comparison
                    regressed = bool(comparison["regressed"])
                statuses = {gate["status"] for gate in gates}
                if "failed" in statuses or (run[0] and "skipped" in statuses) or regressed:
                    status = "failed"
                elif "inconclusive" in statuses:
                    status = "inconclusive"
                else:
                    status = "passed"
                conn.execute(
                    sql.SQL(
                        "update {} set status = %s, finished_at = clock_timestamp(),"
                        " verdict = %s where run_id = %s"
                    ).format(_relation(database, "ai_eval_runs")),
                    (status, json.dumps(verdict), run_id),
                )
    except psycopg.errors.LockNotAvailable as exc:
        raise RuntimeFailure(
            f"run {run_id} is being judged by another process; gave up waiting after "
            f"{CONCURRENT_RUN_WAIT_SECONDS:g} s (check it later: ai-gate check --run-id {run_id})"
        ) from exc
    except (psycopg.Error, KeyboardInterrupt) as exc:
        _abort(database, run_id, exc)
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise RuntimeFailure(
            f"judging run {run_id} failed; it is marked aborted (run it again to judge it): "
            f"{first_line(str(exc))}"
        ) from exc
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
                "select gate, metric, comparator, threshold, observed, lower_bound, upper_bound,"
                " status from {}"
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
                    # Synthetic runs (ai-gate simulate) are never "the latest verdict".
                    "select run_id from {} where not is_synthetic"
                    " and (%(env)s::text is null or environment = %(env)s)"
                    " order by started_at desc, run_id desc limit 1"
                ).format(_relation(database, "ai_eval_runs")),
                {"env": environment},
            ).fetchone()
        except psycopg.errors.UndefinedTable as exc:
            raise _not_built(database, exc) from exc
    if row is None:
        where = f" for environment {environment!r}" if environment else ""
        raise InputRejected(f"no evaluation runs{where} (synthetic runs do not count)")
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
                g.get("lower_bound"),
                g.get("upper_bound"),
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
        gate_policy=run.get("gate_policy"),
        baseline=(verdict or {}).get("baseline"),
    )
