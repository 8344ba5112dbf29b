"""`ai-gate daily`: the scheduler's single command.

build -> ingest and gate every record file -> canary evaluation -> reports. Every
file gets an outcome (passed, failed, rejected, error), written to daily-outcome.json
beside the reports. The exit code puts the worst news first: 2 when any gate failed or
the canary must hold or roll back (even if another file was rejected), else 1 for a
runtime failure, else 3 when a file was rejected, else 4 when the canary decision is
inconclusive, else 0. Two daily runs at once are serialized by a session advisory
lock (the second waits, then gives up with exit 1); re-running the same files
re-reports their stored verdicts instead of ingesting them twice.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

from ai_gate import build, verdict_reports
from ai_gate.daily_outcome import DailyOutcome, FileOutcome
from ai_gate.database import Database, redact
from ai_gate.errors import (
    EXIT_RUNTIME_FAILURE,
    InputRejected,
    NotBuilt,
    RuntimeFailure,
)
from ai_gate.evals.ingest import RunOptions
from ai_gate.evals.runs import run_evaluation
from ai_gate.evals.thresholds import EnvironmentGates, read_environment_gates
from ai_gate.files import write_atomically
from ai_gate.rollout import canary
from ai_gate.rollout.arms import ArmNames
from ai_gate.rollout.evidence import CanaryNotServing
from ai_gate.routing.configuration import ProviderConfig, require_known_environment

OUTCOME_FILE = "daily-outcome.json"
HTML_REPORT_FILE = "report.html"
# The HTML report's window (the last month of gates, latency, canary and audit).
HTML_REPORT_WINDOW = timedelta(days=30)

# Two 32-bit keys: 'aigt' and 'dly!' — ai-gate's daily job, whatever the schema.
LOCK_KEYS = (0x61696774, 0x646C7921)


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
        # records (.jsonl) and other tools' results (.json), each read as its content says
        files = sorted(p for p in path.iterdir() if p.suffix in (".jsonl", ".json") and p.is_file())
        if not files:
            raise InputRejected(f"{path}: no .jsonl or .json files")
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
    canary_provider: str | None = None,
    baseline_provider: str | None = None,
    build_project: bool = True,
) -> DailyOutcome:
    """The daily job. With a report folder, its outcome is written there whatever
    happens (a failure before the end included, with its exit code), and the files a
    previous daily run wrote there go first: nothing stale is left to be read as
    today's."""
    outcome = DailyOutcome()
    if report_dir is not None:
        try:
            report_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RuntimeFailure(f"cannot create --report-dir {report_dir}: {exc}") from exc
        _remove_previous_outputs(report_dir)
    try:
        _run_daily(
            database,
            environment,
            records,
            log,
            outcome,
            report_dir=report_dir,
            lock_timeout=lock_timeout,
            canary_provider=canary_provider,
            baseline_provider=baseline_provider,
            build_project=build_project,
        )
    except BaseException as exc:
        # the whole message: a failed build names its failing nodes after the first line
        outcome.error = redact(str(exc).strip()) or type(exc).__name__
        outcome.error_exit_code = getattr(exc, "exit_code", EXIT_RUNTIME_FAILURE)
        if isinstance(exc, KeyboardInterrupt):
            outcome.error = "interrupted or terminated"
        raise
    finally:
        outcome.finished_at = datetime.now(UTC)
        if report_dir is not None:
            write_atomically(
                report_dir / OUTCOME_FILE, json.dumps(outcome.as_json(), indent=2) + "\n"
            )
    return outcome


def _remove_previous_outputs(report_dir: Path) -> None:
    """The outcome, the HTML report and the reports the previous outcome lists."""
    previous = report_dir / OUTCOME_FILE
    names = [OUTCOME_FILE, HTML_REPORT_FILE]
    try:
        listed = json.loads(previous.read_text(encoding="utf-8")).get("reports", [])
        names += [name for name in listed if isinstance(name, str) and "/" not in name]
    except (OSError, ValueError, AttributeError):
        pass  # no previous outcome, or not one of ours: only the fixed names go
    for name in names:
        try:
            (report_dir / name).unlink(missing_ok=True)
        except OSError as exc:
            raise RuntimeFailure(f"cannot remove the previous {report_dir / name}: {exc}") from exc


def _run_daily(
    database: Database,
    environment: str,
    records: Path,
    log: TextIO,
    outcome: DailyOutcome,
    *,
    report_dir: Path | None,
    lock_timeout: float,
    canary_provider: str | None,
    baseline_provider: str | None,
    build_project: bool,
) -> None:
    database.refuse_transaction_pooler("session advisory locks (which keep two daily runs apart)")
    files = record_files(records)

    with daily_lock(database, lock_timeout, log):
        # A built database is checked before the build; a new one after it (the build
        # creates what the check reads). The check reads the routing seed's
        # environments, not the configuration (read once, in the canary's snapshot).
        checked = build.is_built(database)
        if checked:
            require_known_environment(database, environment)
        if build_project:
            build.build(database, log)
        elif not checked:
            raise NotBuilt(
                f"{database.describe()} is not built, and --no-build leaves the build to "
                "your dbt job: run it (or `ai-gate build`) first"
            )
        else:
            log.write("ai-gate daily: not building (--no-build): the project as last built\n")
        if not checked:
            require_known_environment(database, environment)
        gates = _environment_gates(database, environment)
        for path in files:
            try:
                verdict = run_evaluation(
                    database,
                    RunOptions(
                        path=path,
                        environment=environment,
                        run_type="scheduled",
                        triggered_by="ai-gate daily",
                    ),
                    gates=gates,
                )
            except InputRejected as exc:
                outcome.files.append(
                    FileOutcome(
                        path.name, "rejected", message=str(exc), problems=tuple(exc.problems)
                    )
                )
                log.write(f"ai-gate daily: {exc}\n")
                for problem in exc.problems:
                    log.write(f"  {problem}\n")
                continue
            except RuntimeFailure as exc:  # this file's run; the others still count
                outcome.files.append(FileOutcome(path.name, "error", message=str(exc)))
                log.write(f"ai-gate daily: {path.name}: {exc}\n")
                continue
            outcome.runs.append(verdict)
            outcome.files.append(
                FileOutcome(
                    path.name,
                    verdict.status
                    if verdict.status in ("passed", "failed", "inconclusive")
                    else "error",
                    run_id=verdict.run_id,
                    reused=verdict.reused,
                )
            )
            if report_dir is not None:
                stem = f"{path.stem}.{verdict.run_id}"
                targets = {
                    name: report_dir / f"{stem}{suffix}"
                    for name, suffix in verdict_reports.SUFFIXES.items()
                }
                errors = verdict_reports.write_verdict_reports(database, verdict, targets)
                if errors:
                    raise RuntimeFailure("; ".join(errors))
                outcome.reports += [target.name for target in targets.values()]
        canary_name: str | None = None
        configs: list[ProviderConfig] | None = None
        try:
            outcome.decision, evidence = canary.evaluate(
                database,
                ArmNames(environment, canary_provider, baseline_provider),
                actor="ai-gate daily",
            )
            canary_name, configs = evidence.roles.canary, evidence.configs
        except CanaryNotServing as exc:  # nothing to decide; not inconclusive
            outcome.canary_skipped = str(exc)
            canary_name, configs = exc.arms.canary, exc.configs
        except InputRejected as exc:  # no canary to name, no guardrails for it
            outcome.canary_skipped = str(exc)
    if report_dir is not None:
        # matplotlib is loaded only when a report is written
        from ai_gate import html_report
        from ai_gate.formatters import html

        data = html_report.read_html_report(
            database, environment, HTML_REPORT_WINDOW, canary_name, configs
        )
        write_atomically(report_dir / HTML_REPORT_FILE, html.render(data))
        outcome.reports.append(HTML_REPORT_FILE)


def _environment_gates(database: Database, environment: str) -> EnvironmentGates | None:
    """The environment's seeded gates, read once for every file of the day; None when
    they cannot be read (each file is then rejected with the reason, as on its own)."""
    try:
        with database.connect() as conn:
            return read_environment_gates(conn, database, environment)
    except InputRejected:
        return None
