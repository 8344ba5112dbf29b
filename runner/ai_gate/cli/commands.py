"""The handlers: each takes the parsed arguments, calls the library, prints what a
formatter renders, and returns the exit code. No SQL, no rules, no rendering here."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from pathlib import Path

from ai_gate import build, daily
from ai_gate.actor import default_actor
from ai_gate.database import Database, data_dir, resolve_database, stop_embedded
from ai_gate.dbt_project import dbt_environment
from ai_gate.errors import (
    EXIT_GATE_FAILED,
    EXIT_INCONCLUSIVE,
    EXIT_OK,
    EXIT_RUNTIME_FAILURE,
    RuntimeFailure,
    UsageError,
)
from ai_gate.evals import ingest, reports, runs, verdicts
from ai_gate.files import write_report
from ai_gate.formatters import json as json_format
from ai_gate.formatters import text
from ai_gate.project_config import project_var
from ai_gate.rollout import actions, canary, drill
from ai_gate.routing import flags as routing
from ai_gate.telemetry import latency, simulate

# A stored verdict's exit code; `running` and `aborted` are not verdicts.
VERDICT_EXIT_CODES = {
    "passed": EXIT_OK,
    "failed": EXIT_GATE_FAILED,
    "inconclusive": EXIT_INCONCLUSIVE,
}


# What a command holds until it ends (its database session); set by `command_scope`.
_COMMAND_RESOURCES: ContextVar[ExitStack | None] = ContextVar("ai_gate_command", default=None)


@contextmanager
def command_scope() -> Iterator[None]:
    """Around one command: its database session is closed when it ends."""
    with ExitStack() as stack:
        token = _COMMAND_RESOURCES.set(stack)
        try:
            yield
        finally:
            _COMMAND_RESOURCES.reset(token)


def connect_announced() -> Database:
    """The command's database, announced; within `command_scope`, one server session
    serves the whole command (Database.session)."""
    database = resolve_database()
    sys.stderr.write(f"ai-gate: database {database.describe()}\n")
    stack = _COMMAND_RESOURCES.get()
    if stack is not None:
        stack.enter_context(database.session())
    return database


def show_configs(database: Database, environment: str) -> None:
    sys.stdout.write(text.configs(routing.effective_configuration(database, environment)))


# --- build ---------------------------------------------------------------------------------


def cmd_build(args: argparse.Namespace) -> int:
    database = connect_announced()
    result = build.build(
        database,
        sys.stderr,
        full_refresh=args.full_refresh,
        dbt_vars=args.vars or {},
        select=args.select,
    )
    sys.stdout.write(text.build_summary(result.counts))
    return EXIT_OK


def cmd_migrate(args: argparse.Namespace) -> int:
    if args.print:
        sys.stdout.write(build.migration_sql(args.vars or {}))
        return EXIT_OK
    database = connect_announced()
    build.migrate(database, args.vars or {}, sys.stderr)
    print("ai-gate migrate: ai_training_examples telemetry migration applied")
    return EXIT_OK


def cmd_init_dev(args: argparse.Namespace) -> int:
    database = connect_announced()
    schema = str(project_var("product_schema"))
    if build.product_table_exists(database, schema):
        print(f"ai-gate init-dev: {schema}.ai_training_examples already exists; left as it is")
        return EXIT_OK
    build.create_phase1_table(database, schema)
    print(f"ai-gate init-dev: created a Phase-1-shaped {schema}.ai_training_examples")
    return EXIT_OK


# --- routing flags ---------------------------------------------------------------------------


def cmd_flags_show(args: argparse.Namespace) -> int:
    database = connect_announced()
    configs = routing.effective_configuration(database, args.show_env)
    if not configs and args.show_env:
        raise routing.unknown_environment(
            args.show_env, {c.environment for c in routing.effective_configuration(database)}
        )
    sys.stdout.write(json_format.configs(configs) if args.json else text.configs(configs))
    return EXIT_OK


def cmd_flags_set(args: argparse.Namespace) -> int:
    if (
        args.enable is None
        and not args.default
        and all(value is None for value in (args.weight, args.timeout_ms, args.max_retries))
    ):
        raise UsageError(
            "ai-gate flags set: nothing to change: give at least one of --enable, --disable, "
            "--weight, --default, --timeout-ms, --max-retries"
        )
    change = routing.FlagChange(
        provider=args.provider,
        environment=args.env,
        reason=args.reason,
        actor=default_actor() if args.actor is None else args.actor,
        enabled=args.enable,
        make_default=args.default,
        weight=args.weight,
        timeout_ms=args.timeout_ms,
        max_retries=args.max_retries,
    )
    database = connect_announced()
    recorded = routing.record_change(database, change)
    sys.stdout.write(text.recorded_change(args.env, args.provider, recorded))
    show_configs(database, args.env)
    return EXIT_OK


def cmd_flags_history(args: argparse.Namespace) -> int:
    database = connect_announced()
    entries = routing.change_history(database, args.env, args.limit)
    sys.stdout.write(json_format.history(entries) if args.json else text.history(entries))
    return EXIT_OK


# --- eval runs -------------------------------------------------------------------------------


def emit_report(report: verdicts.EvalReport, args: argparse.Namespace, database: Database) -> int:
    """Write every requested rendering of the stored verdict; the exit code follows it.
    A report that cannot be written is an error line, and never hides the verdict: a
    failed or inconclusive run keeps its exit code; a passed one exits 1 (an output it
    was asked for is missing)."""
    requested = {
        name: path
        for name, path in (
            ("json", args.report_json),
            ("markdown", args.report_md),
            ("junit", args.junit),
        )
        if path is not None
    }
    errors = reports.write_eval_reports(database, report, requested)
    for error in errors:
        sys.stderr.write(f"ai-gate: {error}\n")
    # a report written to standard output (`-`) keeps it to itself
    on_stdout = any(str(path) == "-" for path in requested.values())
    (sys.stderr if on_stdout else sys.stdout).write(text.text_report(report))
    code = VERDICT_EXIT_CODES.get(report.status, EXIT_RUNTIME_FAILURE)
    return EXIT_RUNTIME_FAILURE if errors and code == EXIT_OK else code


def cmd_run(args: argparse.Namespace) -> int:
    database = connect_announced()
    routing.require_known_environment(database, args.env)
    options = ingest.RunOptions(
        path=Path(args.file),
        environment=args.env,
        run_type=args.run_type,
        thresholds_file=Path(args.thresholds) if args.thresholds else None,
        run_id=args.run_id,
        strict=args.strict,
        triggered_by=args.triggered_by,
        ci_job_id=args.ci_job_id,
        git_sha=args.git_sha,
        confidence=args.confidence,
        baseline=args.baseline,
    )
    report = runs.run_evaluation(database, options, progress=sys.stderr)
    return emit_report(report, args, database)


def cmd_check(args: argparse.Namespace) -> int:
    database = connect_announced()
    if args.env is not None:
        routing.require_known_environment(database, args.env)
    run_id = args.run_id or verdicts.latest_run_id(database, args.env)
    report = verdicts.load_report(database, run_id)
    if report.status == "running":
        sys.stderr.write(f"ai-gate: run {run_id} has not finished (status running)\n")
    return emit_report(report, args, database)


# --- canary, simulation, drills ----------------------------------------------------------


def cmd_canary_missing_subcommand(args: argparse.Namespace) -> int:
    raise UsageError("ai-gate canary: give a subcommand: evaluate or step")


def cmd_canary_evaluate(args: argparse.Namespace) -> int:
    if args.apply and args.include_synthetic:
        raise UsageError(
            "ai-gate canary evaluate: --apply cannot be combined with --include-synthetic "
            "(a decision on synthetic rows never moves real traffic)"
        )
    database = connect_announced()
    decision = canary.evaluate(
        database,
        routing.read_arms(database, args.env, args.canary, args.baseline),
        since=args.since,
        run_id=args.run_id,
        actor=args.actor,
        include_synthetic=args.include_synthetic,
    )
    render = json_format.decision if args.json else text.decision_text
    sys.stdout.write(render(decision))
    if args.apply:
        recorded = actions.apply_rollback(database, decision, args.actor)
        sys.stdout.write(text.rollback_applied(decision, recorded))
        if recorded is not None:
            show_configs(database, args.env)
    return decision.exit_code


def cmd_canary_step(args: argparse.Namespace) -> int:
    database = connect_announced()
    arms = routing.read_arms(database, args.env, args.canary, args.baseline)
    result = actions.step(database, arms, args.actor)
    sys.stdout.write(text.step(result, arms.environment, arms.canary))
    show_configs(database, args.env)
    return EXIT_OK


def cmd_simulate(args: argparse.Namespace) -> int:
    database = connect_announced()
    result = simulate.simulate(
        database,
        args.scenario,
        args.rows,
        args.seed,
        routing.read_arms(database, args.env, args.canary, args.baseline),
    )
    sys.stdout.write(text.simulation(result))
    return EXIT_OK


def cmd_drill_missing_subcommand(args: argparse.Namespace) -> int:
    raise UsageError("ai-gate drill: give a subcommand: rollback")


def cmd_drill_rollback(args: argparse.Namespace) -> int:
    database = connect_announced()
    arms = routing.read_arms(database, args.env, args.canary, args.baseline)
    evidence = drill.rollback_drill(database, arms, args.actor)
    sys.stdout.write(json_format.drill(evidence) if args.json else text.drill(evidence))
    return EXIT_OK if evidence.succeeded else EXIT_RUNTIME_FAILURE


# --- latency, daily, bench ---------------------------------------------------------------


def cmd_latency(args: argparse.Namespace) -> int:
    database = connect_announced()
    start, end, rows = latency.percentiles(database, args.since, exact=args.exact)
    render = json_format.latency if args.json else text.latency
    sys.stdout.write(render(start, end, args.exact, rows))
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from ai_gate import report  # matplotlib: loaded only for the report
    from ai_gate.formatters import html

    database = connect_announced()
    data = report.read_report(database, args.env, args.since, canary=args.canary)
    try:
        write_report(args.html, html.report(data))
    except OSError as exc:
        raise RuntimeFailure(f"cannot write report {args.html}: {exc.strerror or exc}") from exc
    print(f"ai-gate report: wrote {args.html} ({args.env}, last {args.since.days} days)")
    return EXIT_OK


def cmd_daily(args: argparse.Namespace) -> int:
    if args.report_dir is not None and args.report_dir.exists() and not args.report_dir.is_dir():
        raise UsageError(f"ai-gate daily: --report-dir {args.report_dir} is not a directory")
    database = connect_announced()
    outcome = daily.daily(
        database,
        args.env,
        Path(args.records),
        sys.stderr,
        report_dir=args.report_dir,
        lock_timeout=args.lock_timeout,
        canary_provider=args.canary,
        baseline_provider=args.baseline,
    )
    sys.stdout.write(text.daily(outcome))
    return outcome.exit_code


def cmd_bench(args: argparse.Namespace) -> int:
    # The benchmarks are tooling (ai_gate_tools), loaded only for this command.
    from ai_gate_tools import bench, calibration
    from ai_gate_tools.doc_sections import write_doc_section

    if args.calibration:
        markdown_text = calibration.render_markdown(
            calibration.run_calibration(args.trials, args.seed), args.seed
        )
        sys.stdout.write(markdown_text)
        if args.write_doc is not None:
            write_doc_section(args.write_doc, "bench:calibration", markdown_text)
        return EXIT_OK
    sizes = args.rows or [1_000_000]
    if any(rows < 1000 for rows in sizes):
        raise UsageError("ai-gate bench: --rows must be at least 1000")
    database = connect_announced()
    if not build.is_built(database):  # the eval tables the ingest benchmark writes to
        build.build(database, sys.stderr)
    info, results = bench.run_bench(database, sizes, args.runs, args.ingest_samples, sys.stderr)
    markdown_text = bench.render_markdown(info, results)
    sys.stdout.write(markdown_text)
    if args.write_doc is not None:
        write_doc_section(args.write_doc, "bench:results", markdown_text)
    return EXIT_OK


# --- exec, db ------------------------------------------------------------------------------


def cmd_exec(args: argparse.Namespace) -> int:
    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        raise UsageError("ai-gate exec: give a command to run, e.g. ai-gate exec -- psql")
    database = connect_announced()
    env = dbt_environment(database)
    # libpq clients (psql, pg_dump) read PGPASSWORD, not dbt's secret variable.
    env["PGPASSWORD"] = env.get("DBT_ENV_SECRET_PGPASSWORD", "")
    # The tools installed beside ai-gate (dbt, sqlfluff) come first, activated or not.
    tools = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([tools, *(p for p in env.get("PATH", "").split(os.pathsep) if p)])
    try:
        return subprocess.run(command, env=env, check=False).returncode
    except FileNotFoundError:
        raise UsageError(f"ai-gate exec: command not found: {command[0]}") from None


def cmd_db_info(args: argparse.Namespace) -> int:
    database = resolve_database()
    print(database.describe())
    with database.connect() as conn:
        row = conn.execute("show server_version").fetchone()
    print(f"PostgreSQL {row[0] if row else '?'}")
    return EXIT_OK


def cmd_db_missing_subcommand(args: argparse.Namespace) -> int:
    raise UsageError("ai-gate db: give a subcommand: info or stop")


def cmd_db_stop(args: argparse.Namespace) -> int:
    directory = data_dir(os.environ)
    if stop_embedded(directory):
        print(f"stopped the embedded PostgreSQL in {directory}")
    else:
        print(f"no embedded PostgreSQL running in {directory}")
    return EXIT_OK
