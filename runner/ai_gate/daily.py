"""`ai-gate daily`: the scheduler's single command.

build -> ingest and gate every record file -> canary evaluation -> reports. The exit
code is the gate's. Two daily runs at once are serialized by a session advisory lock
(the second waits, then gives up with exit 1); re-running the same files re-reports
their stored verdicts instead of ingesting them twice.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from . import build, canary, evals, reports
from .database import Database
from .errors import (
    EXIT_GATE_FAILED,
    EXIT_INPUT_REJECTED,
    EXIT_OK,
    EXIT_RUNTIME_FAILURE,
    InputRejected,
    RuntimeFailure,
)

# Two 32-bit keys: 'aigt' and 'dly!' — ai-gate's daily job, whatever the schema.
LOCK_KEYS = (0x61696774, 0x646C7921)
TRANSACTION_POOLER_PORT = 6543


@dataclass
class DailyOutcome:
    runs: list[evals.EvalReport] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    decision: canary.Decision | None = None
    canary_error: str | None = None

    @property
    def exit_code(self) -> int:
        if any(report.status not in ("passed", "failed") for report in self.runs):
            return EXIT_RUNTIME_FAILURE
        if self.rejected:
            return EXIT_INPUT_REJECTED
        if any(report.status == "failed" for report in self.runs):
            return EXIT_GATE_FAILED
        return EXIT_OK


def refuse_transaction_pooler(database: Database) -> None:
    if database.port == TRANSACTION_POOLER_PORT:
        raise RuntimeFailure(
            f"{database.describe()} is on port {TRANSACTION_POOLER_PORT}, Supabase's "
            "transaction pooler, where session advisory locks (which keep two daily runs "
            "apart) do not work. Use the direct connection or the session pooler (port 5432)."
        )


@contextmanager
def daily_lock(database: Database, timeout_seconds: float, log: TextIO) -> Iterator[None]:
    """Hold the daily job's session advisory lock; wait up to `timeout_seconds` for it."""
    with database.connect(autocommit=True) as conn:
        deadline = time.monotonic() + timeout_seconds
        announced = False
        while True:
            row = conn.execute("select pg_try_advisory_lock(%s, %s)", LOCK_KEYS).fetchone()
            if row and row[0]:
                break
            if time.monotonic() >= deadline:
                raise RuntimeFailure(
                    f"another `ai-gate daily` holds the daily lock on {database.describe()}; "
                    f"gave up after {timeout_seconds:g}s (nothing was done)"
                )
            if not announced:
                log.write("ai-gate daily: another daily run is in progress; waiting for it\n")
                announced = True
            time.sleep(0.5)
        try:
            yield
        finally:
            conn.execute("select pg_advisory_unlock(%s, %s)", LOCK_KEYS)


def record_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix == ".jsonl" and p.is_file())
        if not files:
            raise InputRejected(f"{path}: no .jsonl files")
        return files
    if not path.exists():
        raise InputRejected(f"{path}: no such file or directory")
    return [path]


def daily(
    database: Database,
    environment: str,
    records: Path,
    log: TextIO,
    *,
    report_dir: Path | None = None,
    lock_timeout: float = 600.0,
    canary_provider: str = "custom",
    baseline_provider: str = "openai",
    skip_build: bool = False,
) -> DailyOutcome:
    refuse_transaction_pooler(database)
    files = record_files(records)
    outcome = DailyOutcome()
    with daily_lock(database, lock_timeout, log):
        if not skip_build:
            build.build(database, log)
        for path in files:
            try:
                report = evals.run_evaluation(
                    database,
                    evals.RunOptions(
                        path=path,
                        environment=environment,
                        run_type="scheduled",
                        triggered_by="ai-gate daily",
                    ),
                )
            except InputRejected as exc:
                outcome.rejected.append(str(exc))
                log.write(f"ai-gate daily: {exc}\n")
                for problem in exc.problems:
                    log.write(f"  {problem}\n")
                continue
            outcome.runs.append(report)
            if report_dir is not None:
                stem = f"{path.stem}.{report.run_id}"
                for suffix, render in (
                    (".json", reports.json_report),
                    (".md", reports.markdown_report),
                    (".xml", reports.junit_report),
                ):
                    reports.write_atomically(report_dir / f"{stem}{suffix}", render(report))
        try:
            outcome.decision = canary.evaluate(
                database, environment, canary_provider, baseline_provider, actor="ai-gate daily"
            )
        except InputRejected as exc:  # e.g. no canary configured here: report, don't fail
            outcome.canary_error = str(exc)
    return outcome
