"""Ingest: one read of a record source (a records file, or another tool's file as
records: evals/sources.py; validated, hashed) into a temporary staging table, then, in
the same transaction, the run row and its samples.

Staging first is what lets the run id be a hash of the content read once, finds every
repeated sample_id (a rejected line's too) without reading the file again, and keeps
a rejected file from writing anything: any problem rolls the transaction back.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import psycopg
from psycopg import sql

from ai_gate.actor import default_actor
from ai_gate.database import Database
from ai_gate.errors import InputRejected, RuntimeFailure
from ai_gate.evals import baseline
from ai_gate.evals.records import (
    COST_FIELD,
    SAMPLE_COLUMNS,
    SAMPLE_COPY_TYPES,
    TOKEN_FIELDS,
    Problem,
)
from ai_gate.evals.sources import ImportedFile, RecordsFile, source_reading
from ai_gate.evals.stored_runs import fetch_run
from ai_gate.evals.verdicts import CONCURRENT_RUN_WAIT_SECONDS

Source = RecordsFile | ImportedFile

RUN_TYPES = ("offline", "canary", "scheduled")
STAGING_TABLE = "ai_gate_incoming_samples"
# A rejected line in the staging table: its sample_id and line, the rest null.
REJECTED_LINE_PADDING = (None,) * (len(SAMPLE_COLUMNS) - 2)
MAX_REPORTED_PROBLEMS = 50
PROGRESS_EVERY = 50_000


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
    # the file's format (importers.FORMATS; None: detected from its content), the map
    # of an imported file (MAP.yml) and what its errored attempts become
    format: str | None = None
    map_file: Path | None = None
    on_error: str = "fail"


# --- run identity -------------------------------------------------------------------------


def default_run_id(
    source_sha256: str,
    environment: str,
    run_type: str,
    thresholds: dict[str, float | None],
    strict: bool,
    policy: dict[str, object],
    baseline_run_id: str | None = None,
    reading: dict[str, object] | None = None,
) -> str:
    """Same file and same verdict-affecting options -> same run id. `reading`: how
    another tool's file was read as records (its format, the map, the error policy)."""
    fields: dict[str, object] = {
        "source_sha256": source_sha256,
        "environment": environment,
        "run_type": run_type,
        "thresholds": thresholds,
        "strict": strict,
        "gate_policy": policy,
    }
    if baseline_run_id is not None:
        fields["baseline_run_id"] = baseline_run_id
    if reading is not None:
        fields["reading"] = reading
    identity = json.dumps(fields, sort_keys=True)
    return "eval-" + hashlib.sha256(identity.encode()).hexdigest()[:24]


def _check_same_run(
    existing: dict[str, object],
    run_id: str,
    source_sha256: str,
    options: RunOptions,
    thresholds: dict[str, float | None],
    policy: dict[str, object],
    baseline_id: str | None,
    reading: dict[str, object] | None,
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
    if existing.get("gate_policy") != policy:
        differences.append("the gate policy (--confidence, minimum samples)")
    if baseline_id is not None and existing.get("baseline_run_id") != baseline_id:
        differences.append("the baseline")
    stored_source = (existing.get("metadata") or {}).get("source") or {}  # type: ignore[union-attr]
    if source_reading(stored_source) != reading:
        differences.append("the reading of the file (--format, --map, --on-error)")
    if differences:
        raise InputRejected(
            f"run id {run_id!r} already exists for another run: its "
            f"{', '.join(d.removeprefix('the ') for d in differences)} "
            f"{'is' if len(differences) == 1 else 'are'} not this run's; nothing was written "
            "(choose another --run-id, or omit it)"
        )


def ingest(
    database: Database,
    options: RunOptions,
    source: Source,
    thresholds: dict[str, float | None],
    policy: dict[str, object],
    progress: TextIO | None,
) -> tuple[str, dict[str, object] | None]:
    """One transaction: stream the file once into a temporary table (validating and
    hashing it), then the run row and its samples. Returns the run id and, when the
    run was there already (same content and options), its row instead.

    Staging first is what lets the run id be a hash of the content read once, finds
    every repeated sample_id (a rejected line's too) without reading the file again,
    and keeps a rejected file from writing anything."""
    label = source.label
    columns = sql.SQL(", ").join(sql.Identifier(name) for name in SAMPLE_COLUMNS)
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
                        database.relation("ai_eval_samples"),
                    )
                )
                problems, problem_count = _stage(conn, columns, source, progress)
                source_sha256 = source.sha256
                if problem_count:
                    raise _rejection(
                        label, *_with_duplicates(conn, problems, problem_count, source)
                    )
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
                    source.reading,
                )
                existing = fetch_run(conn, database, run_id)
                if existing is None:
                    row = _run_row(options, source, run_id, thresholds, policy, baseline_id)
                    inserted = _insert_run(conn, database, row)
                    if not inserted:  # a concurrent process committed it first
                        existing = fetch_run(conn, database, run_id)
                if existing is not None:
                    _check_same_run(
                        existing,
                        run_id,
                        source_sha256,
                        options,
                        thresholds,
                        policy,
                        baseline_id,
                        source.reading,
                    )
                    return run_id, existing
                try:
                    with conn.transaction():  # a savepoint: a duplicate is reported, below
                        conn.execute(_insert_samples(database), (run_id,))
                except psycopg.errors.UniqueViolation:
                    raise _rejection(label, *_with_duplicates(conn, [], 0, source)) from None
        except psycopg.errors.LockNotAvailable as exc:
            raise RuntimeFailure(
                f"another process is ingesting the same run; gave up waiting after "
                f"{CONCURRENT_RUN_WAIT_SECONDS:g} s (nothing was written)"
            ) from exc
    return run_id, None


def _insert_samples(database: Database) -> sql.Composed:
    """The staged records into ai_eval_samples, each with its cost as the database's
    price functions know it (recorded, else priced from its tokens, else unknown)."""
    staged = [
        sql.SQL("known_cost.cost_usd") if name == COST_FIELD else sql.Identifier(name)
        for name in SAMPLE_COLUMNS
    ]
    return sql.SQL(
        # key order: each key lands beside the previous one
        "insert into {samples} (run_id, {columns}, cost_source)"
        " select %s, {staged}, {source}(staged.{cost}, known_cost.cost_usd)"
        " from {staging} as staged cross join lateral (select {cost_usd}(staged.{cost},"
        " staged.selected_provider, staged.model, coalesce(staged.created_at, now()),"
        " staged.{input}, staged.{output}) as cost_usd) as known_cost"
        " order by sample_id"
    ).format(
        samples=database.relation("ai_eval_samples"),
        columns=sql.SQL(", ").join(sql.Identifier(name) for name in SAMPLE_COLUMNS),
        staged=sql.SQL(", ").join(staged),
        source=database.relation("ai_gate_cost_source"),
        cost=sql.Identifier(COST_FIELD),
        staging=sql.Identifier(STAGING_TABLE),
        cost_usd=database.relation("ai_gate_cost_usd"),
        input=sql.Identifier(TOKEN_FIELDS[0]),
        output=sql.Identifier(TOKEN_FIELDS[1]),
    )


def _run_row(
    options: RunOptions,
    source: Source,
    run_id: str,
    thresholds: dict[str, float | None],
    policy: dict[str, object],
    baseline_id: str | None,
) -> dict[str, object]:
    """The run's row in ai_eval_runs, column -> value."""
    return {
        "run_id": run_id,
        "run_type": options.run_type,
        "environment": options.environment,
        "triggered_by": options.triggered_by or default_actor(),
        "ci_job_id": options.ci_job_id
        or os.environ.get("GITHUB_RUN_ID")
        or os.environ.get("CI_JOB_ID"),
        "git_sha": options.git_sha
        or os.environ.get("GITHUB_SHA")
        or os.environ.get("CI_COMMIT_SHA"),
        "thresholds": json.dumps(thresholds),
        "strict": options.strict,
        "is_synthetic": options.is_synthetic,
        "status": "running",
        "source_file": source.source_file,
        "source_sha256": source.sha256,
        # another tool's file: where its records came from (format, tool, version, ...)
        "metadata": json.dumps(
            {**options.metadata, **({"source": source.source} if source.source else {})}
        ),
        "gate_policy": json.dumps(policy),
        "baseline_run_id": baseline_id,
    }


def _insert_run(conn: psycopg.Connection, database: Database, row: dict[str, object]) -> bool:
    """Insert the run's row (column -> value); False when a concurrent process
    committed the same run first."""
    inserted = conn.execute(
        sql.SQL(
            "insert into {} ({}) values ({}) on conflict (run_id) do nothing returning run_id"
        ).format(
            database.relation("ai_eval_runs"),
            sql.SQL(", ").join(map(sql.Identifier, row)),
            sql.SQL(", ").join(map(sql.Placeholder, row)),
        ),
        row,
    ).fetchone()
    return inserted is not None


def _stage(
    conn: psycopg.Connection,
    columns: sql.Composable,
    source: Source,
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
        for item in source.records():
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
    conn: psycopg.Connection, problems: list[Problem], count: int, source: Source
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
        Problem(
            source.label,
            line,
            "sample_id",
            f"duplicate {sample_id!r} ({source.first_seen(first)})",
            location=source.location(line),
        )
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
