"""The commands: each declared once (`@command`: name, help, exit codes, options),
beside its handler, which takes the parsed arguments, calls the library, prints what a
formatter renders, and returns the exit code. No SQL, no rules, no rendering here."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path

from ai_gate import build, daily
from ai_gate.actor import default_actor
from ai_gate.cli.arguments import (
    INT4_MAX,
    add_arms,
    add_report_options,
    add_vars,
    baseline_argument,
    bounded_integer,
    confidence_argument,
    duration_argument,
    integer,
    report_path,
    run_id_argument,
    seconds,
)
from ai_gate.cli.registry import command
from ai_gate.database import Database, data_dir, resolve_database, stop_embedded
from ai_gate.dbt_project import dbt_environment
from ai_gate.errors import (
    EXIT_GATE_FAILED,
    EXIT_INCONCLUSIVE,
    EXIT_INPUT_REJECTED,
    EXIT_OK,
    EXIT_RUNTIME_FAILURE,
    EXIT_USAGE,
    RuntimeFailure,
    UsageError,
)
from ai_gate.evals import importers, ingest, reports, runs, verdicts
from ai_gate.evals.ingest import RUN_TYPES
from ai_gate.files import is_standard_output, write_report
from ai_gate.formatters import json as json_format
from ai_gate.formatters import text
from ai_gate.project_config import project_var
from ai_gate.rollout import actions, canary, drill
from ai_gate.routing import flags as routing
from ai_gate.stats import parse_duration
from ai_gate.telemetry import latency, simulate
from ai_gate.telemetry.simulate import SCENARIOS

# What 0 means for a command that judges nothing (0 is "pass / go" only for the commands
# that gate: run, check, canary evaluate, daily).
DONE = "done"

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


def _build_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--full-refresh",
        action="store_true",
        help="pass --full-refresh to dbt (the change log keeps its rows)",
    )
    p.add_argument(
        "--select",
        nargs="+",
        metavar="SELECTOR",
        help="dbt node selection, as for dbt (e.g. --select ai_eval_run_summary my_model+); "
        "the views ai-gate reads are kept whatever is selected (ADR 0006)",
    )
    add_vars(p)


@command(
    "build",
    "Migrate the product's ai_training_examples table, then dbt build the project "
    "(seeds, models, tests); names each failing node.",
    exits={EXIT_OK: DONE, EXIT_RUNTIME_FAILURE: None, EXIT_USAGE: None},
    arguments=_build_arguments,
)
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


def _migrate_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--print",
        action="store_true",
        help="print the SQL for the product repository's migrations; needs no database",
    )
    add_vars(p)


@command(
    "migrate",
    "Apply the ai_training_examples telemetry migration (the dbt operation), or print its SQL.",
    exits={EXIT_OK: DONE, EXIT_RUNTIME_FAILURE: None, EXIT_USAGE: None},
    arguments=_migrate_arguments,
)
def cmd_migrate(args: argparse.Namespace) -> int:
    if args.print:
        sys.stdout.write(build.migration_sql(args.vars or {}))
        return EXIT_OK
    database = connect_announced()
    build.migrate(database, args.vars or {}, sys.stderr)
    print("ai-gate migrate: ai_training_examples telemetry migration applied")
    return EXIT_OK


@command(
    "init-dev",
    "Create a Phase-1-shaped ai_training_examples on a development database "
    "(never on the product's).",
    exits={EXIT_OK: DONE, EXIT_RUNTIME_FAILURE: None, EXIT_USAGE: None},
)
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


def _flags_show_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--env", dest="show_env", metavar="ENV", help="only this environment")
    p.add_argument("--json", action="store_true", help="print JSON")


@command(
    "flags",
    "Show the effective routing configuration; `set` and `history` change and audit it.",
    exits={EXIT_OK: DONE, EXIT_RUNTIME_FAILURE: None, EXIT_INPUT_REJECTED: None, EXIT_USAGE: None},
    arguments=_flags_show_arguments,
    subcommands="flags_command",
)
def cmd_flags_show(args: argparse.Namespace) -> int:
    database = connect_announced()
    configs = routing.effective_configuration(database, args.show_env)
    if not configs and args.show_env:
        raise routing.unknown_environment(
            args.show_env, {c.environment for c in routing.effective_configuration(database)}
        )
    sys.stdout.write(json_format.configs(configs) if args.json else text.configs(configs))
    return EXIT_OK


def _flags_set_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("provider")
    p.add_argument("--env", required=True, metavar="ENV", help="environment (required)")
    toggle = p.add_mutually_exclusive_group()
    toggle.add_argument(
        "--enable", dest="enable", action="store_const", const=True, help="enable the provider"
    )
    toggle.add_argument(
        "--disable",
        dest="enable",
        action="store_const",
        const=False,
        help="disable the provider (refused if that breaks a routing invariant)",
    )
    p.add_argument("--weight", type=integer, metavar="N", help="routing weight (0 to 2147483647)")
    p.add_argument(
        "--default",
        action="store_true",
        help="make this provider the environment's default (the old one stops being it)",
    )
    p.add_argument(
        "--timeout-ms", type=integer, metavar="N", help="request timeout (1 to 2147483647)"
    )
    p.add_argument("--max-retries", type=integer, metavar="N", help="retries (0 to 2147483647)")
    p.add_argument(
        "--reason",
        required=True,
        help="why (recorded; required; one line, at most 500 characters)",
    )
    p.add_argument(
        "--actor",
        help="who (default: AI_GATE_ACTOR, else the OS user; one line, at most 500 characters)",
    )
    p.add_argument(
        "--confirm-traffic",
        action="store_true",
        help="acknowledge a change that moves traffic toward the canary outside `canary "
        "step` (raises its share, makes it the default, or leaves a provider that is not "
        "the default serving the majority); recorded in the audit log. Moves toward safety "
        "need none",
    )


@command(
    "flags set",
    "Record an audited change of one provider's routing flags in one environment and "
    "say what it does to the traffic shares. Refused, with nothing written, if it would "
    "break a routing invariant or move traffic toward the canary unacknowledged.",
    exits={EXIT_OK: DONE, EXIT_RUNTIME_FAILURE: None, EXIT_INPUT_REJECTED: None, EXIT_USAGE: None},
    arguments=_flags_set_arguments,
)
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
    recorded = routing.record_change(database, change, confirm_traffic=args.confirm_traffic)
    sys.stdout.write(text.recorded_change(args.env, args.provider, recorded))
    show_configs(database, args.env)
    return EXIT_OK


def _flags_history_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--env", metavar="ENV", help="only this environment")
    p.add_argument(
        "--limit",
        type=bounded_integer(1, 100_000),
        default=50,
        metavar="N",
        help="at most N changes (default 50)",
    )
    p.add_argument("--json", action="store_true", help="print JSON")


@command(
    "flags history",
    "Print the audited change log, newest first.",
    exits={EXIT_OK: DONE, EXIT_RUNTIME_FAILURE: None, EXIT_INPUT_REJECTED: None, EXIT_USAGE: None},
    arguments=_flags_history_arguments,
)
def cmd_flags_history(args: argparse.Namespace) -> int:
    database = connect_announced()
    if args.env is not None:
        routing.require_known_environment(database, args.env)
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
    # a report written to standard output (`-`, /dev/stdout, the file it is redirected
    # to) keeps it to itself: the text report goes to stderr
    on_stdout = any(is_standard_output(path) for path in requested.values())
    (sys.stderr if on_stdout else sys.stdout).write(text.text_report(report))
    code = VERDICT_EXIT_CODES.get(report.status, EXIT_RUNTIME_FAILURE)
    return EXIT_RUNTIME_FAILURE if errors and code == EXIT_OK else code


def _run_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "file",
        help="JSONL eval records (docs/eval-record.schema.json), - for standard input; or "
        "the results file of promptfoo, inspect-ai or deepeval (docs/importers.md)",
    )
    p.add_argument("--env", default="prod", metavar="ENV", help="environment (default prod)")
    p.add_argument(
        "--format",
        choices=importers.FORMATS,
        help="the file's format (default: told from its content; a file of another "
        "format is rejected)",
    )
    p.add_argument(
        "--map",
        metavar="MAP.yml",
        help="another tool's file: ai-gate field -> the tool's check name (default: every "
        "ai-gate field whose own name is a check of the file)",
    )
    p.add_argument(
        "--on-error",
        choices=importers.ON_ERROR,
        default="fail",
        help="another tool's file: an errored attempt fails every check it has no result "
        "for (fail, the default) or is left out (skip); either way it is counted",
    )
    p.add_argument(
        "--run-type",
        default="offline",
        choices=RUN_TYPES,
        help="what kind of run this is (default offline)",
    )
    p.add_argument(
        "--thresholds",
        metavar="FILE.yml",
        help="YAML mapping gate name to a number (or null: gate off); overrides "
        "the environment's thresholds for this run",
    )
    p.add_argument(
        "--run-id",
        type=run_id_argument,
        metavar="ID",
        help="default: a hash of the file and the verdict-affecting options",
    )
    p.add_argument(
        "--strict", action="store_true", help="a skipped gate (metric without data) fails the run"
    )
    p.add_argument(
        "--baseline",
        type=baseline_argument,
        metavar="RUN_ID|latest-passed",
        help="also compare every rate metric with this run of the environment (or its "
        "newest passed, non-synthetic run): a regression beyond the metric's tolerance, "
        "significant after Holm's correction, fails the run (docs/eval-gates.md)",
    )
    p.add_argument(
        "--confidence",
        type=confidence_argument,
        metavar="C",
        help="judge each gate on one-sided bounds at confidence C (e.g. 0.95): pass when the "
        "bound clears the threshold, fail when the other bound misses it, inconclusive "
        "(exit 4) between (default: the environment's setting in ai_eval_thresholds, "
        "else the point estimate)",
    )
    p.add_argument(
        "--triggered-by",
        metavar="WHO",
        help="who or what started the run (default AI_GATE_ACTOR, else the OS user)",
    )
    p.add_argument("--ci-job-id", metavar="ID", help="default GITHUB_RUN_ID or CI_JOB_ID")
    p.add_argument("--git-sha", metavar="SHA", help="default GITHUB_SHA or CI_COMMIT_SHA")
    add_report_options(p)


@command(
    "run",
    "Validate a JSONL file of eval records, ingest it as one run, judge it against "
    "the release gates and report. Exit 0 pass, 2 gate failed, 3 input rejected.",
    exits={
        EXIT_OK: "every evaluated gate passed",
        EXIT_RUNTIME_FAILURE: None,
        EXIT_GATE_FAILED: "a gate failed (or was skipped, with --strict)",
        EXIT_INPUT_REJECTED: None,
        EXIT_INCONCLUSIVE: "confidence policy: a gate's threshold lies between its bounds",
        EXIT_USAGE: None,
    },
    arguments=_run_arguments,
)
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
        format=args.format,
        map_file=Path(args.map) if args.map else None,
        on_error=args.on_error,
    )
    report = runs.run_evaluation(database, options, progress=sys.stderr)
    return emit_report(report, args, database)


def _check_arguments(p: argparse.ArgumentParser) -> None:
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--run-id", type=run_id_argument, metavar="ID", help="the run to report again"
    )
    which.add_argument("--latest", action="store_true", help="the most recently started run")
    p.add_argument("--env", metavar="ENV", help="with --latest: only this environment")
    p.add_argument(
        "--json",
        action="store_true",
        help="print the JSON report on standard output (the text report goes to stderr); "
        "the same as --report-json -",
    )
    add_report_options(p)


@command(
    "check",
    "Report a stored run's verdict again (database only, no dbt), with the same "
    "outputs and exit codes as `run`.",
    exits={
        EXIT_OK: "every evaluated gate passed",
        EXIT_RUNTIME_FAILURE: None,
        EXIT_GATE_FAILED: "a gate failed (or was skipped, with --strict)",
        EXIT_INPUT_REJECTED: "no such run",
        EXIT_INCONCLUSIVE: "confidence policy: a gate's threshold lies between its bounds",
        EXIT_USAGE: None,
    },
    arguments=_check_arguments,
)
def cmd_check(args: argparse.Namespace) -> int:
    if args.json:
        if args.report_json is not None:
            raise UsageError("ai-gate check: give --json or --report-json, not both")
        args.report_json = Path("-")
    database = connect_announced()
    if args.env is not None:
        routing.require_known_environment(database, args.env)
    run_id = args.run_id or verdicts.latest_run_id(database, args.env)
    report = verdicts.load_report(database, run_id)
    if report.status == "running":
        sys.stderr.write(f"ai-gate: run {run_id} has not finished (status running)\n")
    return emit_report(report, args, database)


# --- canary, simulation, drills ----------------------------------------------------------


@command(
    "canary",
    "Canary rollout: evaluate the canary against the baseline; step it.",
    exits={EXIT_USAGE: None},
    subcommands="canary_command",
)
def cmd_canary_missing_subcommand(args: argparse.Namespace) -> int:
    raise UsageError("ai-gate canary: give a subcommand: evaluate or step")


def _canary_evaluate_arguments(p: argparse.ArgumentParser) -> None:
    add_arms(p)
    window = p.add_mutually_exclusive_group()
    window.add_argument(
        "--since",
        type=duration_argument,
        metavar="DURATION",
        help="a fixed telemetry and eval window ending now, e.g. 30m, 6h, judged as one look "
        "(default: the rollout so far, since the canary started serving, at most 14 days)",
    )
    window.add_argument(
        "--run-id",
        type=run_id_argument,
        metavar="ID",
        help="take quality from this eval run (telemetry: the rollout so far)",
    )
    p.add_argument(
        "--apply",
        action="store_true",
        help="on a rollback decision, record the rollback in the flag change log",
    )
    p.add_argument(
        "--include-synthetic",
        action="store_true",
        help="count synthetic rows from `ai-gate simulate` (dry runs): the decision is "
        "stored marked synthetic, and neither `canary step` nor --apply acts on it",
    )
    p.add_argument("--json", action="store_true", help="print the decision as JSON")


@command(
    "canary evaluate",
    "Compare the canary arm with the baseline arm and decide go, hold, rollback or "
    "inconclusive (exit 0, 2, 2, 4); the decision is stored with its inputs. "
    "Synthetic rows are left out unless --include-synthetic.",
    exits={
        EXIT_OK: "go",
        EXIT_RUNTIME_FAILURE: None,
        EXIT_GATE_FAILED: "hold or rollback",
        EXIT_INPUT_REJECTED: None,
        EXIT_INCONCLUSIVE: "inconclusive: keep collecting (the decision is stored)",
        EXIT_USAGE: None,
    },
    arguments=_canary_evaluate_arguments,
)
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


def _canary_step_arguments(p: argparse.ArgumentParser) -> None:
    add_arms(p)


@command(
    "canary step",
    "Move the canary to the rollout plan's next share of traffic; only after a go "
    "decision newer than the canary's last flag change.",
    exits={EXIT_OK: DONE, EXIT_RUNTIME_FAILURE: None, EXIT_INPUT_REJECTED: None, EXIT_USAGE: None},
    arguments=_canary_step_arguments,
)
def cmd_canary_step(args: argparse.Namespace) -> int:
    database = connect_announced()
    arms = routing.read_arms(database, args.env, args.canary, args.baseline)
    result = actions.step(database, arms, args.actor)
    sys.stdout.write(text.step(result, arms.environment, arms.canary))
    show_configs(database, args.env)
    return EXIT_OK


def _simulate_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--scenario",
        required=True,
        choices=sorted(SCENARIOS),
        help="the canary's behaviour to simulate (required)",
    )
    p.add_argument(
        "--rows",
        type=bounded_integer(1, 10_000_000),
        default=10_000,
        metavar="N",
        help="telemetry rows (default 10000)",
    )
    p.add_argument(
        "--seed",
        type=bounded_integer(0, INT4_MAX),
        default=1,
        metavar="S",
        help="random seed: the same scenario, rows and seed give the same data (default 1)",
    )
    add_arms(p)


@command(
    "simulate",
    "Write deterministic synthetic canary telemetry and eval samples (marked "
    "synthetic) within the hour before now, for dry runs and demos.",
    exits={EXIT_OK: DONE, EXIT_RUNTIME_FAILURE: None, EXIT_INPUT_REJECTED: None, EXIT_USAGE: None},
    arguments=_simulate_arguments,
)
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


@command(
    "drill",
    "Operational drills.",
    exits={EXIT_USAGE: None},
    subcommands="drill_command",
)
def cmd_drill_missing_subcommand(args: argparse.Namespace) -> int:
    raise UsageError("ai-gate drill: give a subcommand: rollback")


def _drill_rollback_arguments(p: argparse.ArgumentParser) -> None:
    add_arms(p, env_default=None)
    p.add_argument("--json", action="store_true", help="print the evidence as JSON")


@command(
    "drill rollback",
    "Rehearse the canary rollback: record the flags, roll back, verify nothing routes "
    "to the canary, restore exactly, verify; store the evidence. Exit 1 if a step "
    "failed.",
    exits={
        EXIT_OK: DONE,
        EXIT_RUNTIME_FAILURE: "a drill step failed (or the database did)",
        EXIT_INPUT_REJECTED: None,
        EXIT_USAGE: None,
    },
    arguments=_drill_rollback_arguments,
)
def cmd_drill_rollback(args: argparse.Namespace) -> int:
    database = connect_announced()
    arms = routing.read_arms(database, args.env, args.canary, args.baseline)
    evidence = drill.rollback_drill(database, arms, args.actor)
    sys.stdout.write(json_format.drill(evidence) if args.json else text.drill(evidence))
    return EXIT_OK if evidence.succeeded else EXIT_RUNTIME_FAILURE


# --- latency, daily, bench ---------------------------------------------------------------


def _daily_arguments(p: argparse.ArgumentParser) -> None:
    add_arms(p, actor=False)
    p.add_argument(
        "--records",
        required=True,
        metavar="PATH",
        help="a JSONL file of eval records or a results file of promptfoo, inspect-ai or "
        "deepeval, or a folder of *.jsonl and *.json files (each read as its content says; "
        "docs/importers.md)",
    )
    p.add_argument(
        "--report-dir",
        type=Path,
        metavar="DIR",
        help="write each run's JSON, Markdown and JUnit reports, daily-outcome.json and "
        "the HTML report of the last 30 days (report.html) here (created if missing)",
    )
    p.add_argument(
        "--lock-timeout",
        type=seconds,
        default=600.0,
        metavar="SECONDS",
        help="how long to wait for a concurrent daily run (default 600)",
    )


@command(
    "daily",
    "The scheduler's command: build, ingest and gate every record file, evaluate the "
    "canary, write reports. Exit 2 whenever a gate failed or the canary must hold or "
    "roll back, even if another file was rejected.",
    exits={
        EXIT_OK: "every gate passed, and the canary (if one is rolling out) may go",
        EXIT_RUNTIME_FAILURE: None,
        EXIT_GATE_FAILED: "a gate failed or the canary must hold or roll back, "
        "whatever else happened (see daily-outcome.json)",
        EXIT_INPUT_REJECTED: "a record file was rejected and nothing failed",
        EXIT_INCONCLUSIVE: "gates passed; the canary decision is inconclusive",
        EXIT_USAGE: None,
    },
    arguments=_daily_arguments,
)
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


def _report_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--html", type=report_path, required=True, metavar="PATH", help="the HTML file to write"
    )
    p.add_argument("--env", default="prod", metavar="ENV", help="environment (default prod)")
    p.add_argument(
        "--since",
        type=duration_argument,
        default=parse_duration("30d"),
        metavar="DURATION",
        help="window length ending now, e.g. 7d, 90d (default 30d)",
    )
    p.add_argument(
        "--canary",
        metavar="PROVIDER",
        help="the canary provider (default: the one whose routing seed role is canary)",
    )


@command(
    "report",
    "Write one self-contained HTML file (no network access when opened) of an "
    "environment over a window: gate history, daily latency, canary decisions and "
    "traffic share, flag changes and drills.",
    exits={EXIT_OK: DONE, EXIT_RUNTIME_FAILURE: None, EXIT_INPUT_REJECTED: None, EXIT_USAGE: None},
    arguments=_report_arguments,
)
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


def _latency_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--since",
        type=duration_argument,
        default=parse_duration("7d"),
        metavar="DURATION",
        help="window length, e.g. 1h, 7d, 90d (default 7d)",
    )
    p.add_argument(
        "--exact",
        action="store_true",
        help="exact percentile_cont (audit path) instead of the histograms",
    )
    p.add_argument("--json", action="store_true", help="print JSON")


@command(
    "latency",
    "p50/p95/p99 generation latency per provider and overall over a window ending "
    "now, from the latency rollups plus the raw rows newer than them.",
    exits={EXIT_OK: DONE, EXIT_RUNTIME_FAILURE: None, EXIT_USAGE: None},
    arguments=_latency_arguments,
)
def cmd_latency(args: argparse.Namespace) -> int:
    database = connect_announced()
    start, end, rows = latency.percentiles(database, args.since, exact=args.exact)
    render = json_format.latency if args.json else text.latency
    sys.stdout.write(render(start, end, args.exact, rows))
    return EXIT_OK


def _bench_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--rows",
        type=integer,
        action="append",
        metavar="N",
        help="table size; repeat for several (default 1000000)",
    )
    p.add_argument(
        "--runs",
        type=integer,
        default=5,
        metavar="N",
        help="timed warm runs per query; the median is reported (default 5)",
    )
    p.add_argument(
        "--ingest-samples",
        type=integer,
        default=200_000,
        metavar="N",
        help="eval samples for the ingest benchmark (0 skips it)",
    )
    p.add_argument(
        "--write-doc",
        type=Path,
        metavar="PATH",
        help="also write the table into PATH between bench:results (or, with "
        "--calibration, bench:calibration) markers",
    )
    p.add_argument(
        "--calibration",
        action="store_true",
        help="instead: simulate canary evaluations (no database) and print how often the "
        "decisions are wrong, old rules beside new (docs/benchmarks.md)",
    )
    p.add_argument(
        "--files",
        action="store_true",
        help="instead: time another tool's results file of real size and the HTML report "
        "over a busy window, in a schema of their own (docs/benchmarks.md)",
    )
    p.add_argument(
        "--import-mb",
        type=bounded_integer(1, 10_000),
        default=200,
        metavar="MB",
        help="with --files: the size of the promptfoo file (default 200)",
    )
    p.add_argument(
        "--import-attempts",
        type=bounded_integer(6, 10_000_000),
        default=100_000,
        metavar="N",
        help="with --files: small promptfoo results, against the same as records (default 100000)",
    )
    p.add_argument(
        "--report-runs",
        type=bounded_integer(0, 1_000_000),
        default=10_000,
        metavar="N",
        help="with --files: runs over 30 days for the HTML report (default 10000; 0 skips)",
    )
    p.add_argument(
        "--trials",
        type=bounded_integer(1, 100_000),
        default=400,
        metavar="N",
        help="with --calibration: simulated canaries per row (default 400)",
    )
    p.add_argument(
        "--seed",
        type=bounded_integer(0, INT4_MAX),
        default=2026,
        metavar="S",
        help="with --calibration: random seed (default 2026)",
    )


@command(
    "bench",
    "Benchmark: build telemetry tables of realistic width in bench schemas, time the "
    "latency queries (checklist baseline side by side), the rollup refresh, eval "
    "ingest and check --latest; print a Markdown table. Asserts nothing.",
    exits={EXIT_OK: DONE, EXIT_RUNTIME_FAILURE: None, EXIT_USAGE: None},
    arguments=_bench_arguments,
)
def cmd_bench(args: argparse.Namespace) -> int:
    # The benchmarks are tooling (ai_gate_tools), loaded only for this command.
    from ai_gate_tools import bench, calibration
    from ai_gate_tools.doc_sections import write_doc_section

    if args.files:
        from ai_gate_tools import bench_files

        database = connect_announced()
        results = bench_files.run_file_bench(
            database, args.import_mb, args.import_attempts, args.report_runs, sys.stderr
        )
        info = bench.machine()
        info["date"] = f"{datetime.now(UTC):%Y-%m-%d}"
        with database.connect() as conn:
            row = conn.execute("show server_version").fetchone()
            info["server"] = str(row[0]) if row else "?"
        markdown_text = bench_files.render_markdown(info, results)
        sys.stdout.write(markdown_text)
        if args.write_doc is not None:
            write_doc_section(args.write_doc, "bench:files", markdown_text)
        return EXIT_OK
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


def _exec_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND [ARGS...]")


@command(
    "exec",
    "Run a command (dbt, sqlfluff, psql, ...) with ai-gate's database in its "
    "environment: PG* variables, DBT_PROFILES_DIR and the dbt secret.",
    exits={
        EXIT_OK: "done (otherwise: the command's own exit code)",
        EXIT_RUNTIME_FAILURE: None,
        EXIT_USAGE: None,
    },
    arguments=_exec_arguments,
)
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


@command(
    "db info",
    "Print which database ai-gate uses and its server version.",
    exits={EXIT_OK: DONE, EXIT_RUNTIME_FAILURE: None, EXIT_USAGE: None},
)
def cmd_db_info(args: argparse.Namespace) -> int:
    database = resolve_database()
    print(database.describe())
    with database.connect() as conn:
        row = conn.execute("show server_version").fetchone()
    print(f"PostgreSQL {row[0] if row else '?'}")
    return EXIT_OK


@command(
    "db",
    "The database ai-gate uses.",
    exits={EXIT_USAGE: None},
    subcommands="db_command",
)
def cmd_db_missing_subcommand(args: argparse.Namespace) -> int:
    raise UsageError("ai-gate db: give a subcommand: info or stop")


@command(
    "db stop",
    "Stop the embedded PostgreSQL (it is left running between commands).",
    exits={EXIT_OK: DONE, EXIT_RUNTIME_FAILURE: None, EXIT_USAGE: None},
)
def cmd_db_stop(args: argparse.Namespace) -> int:
    directory = data_dir(os.environ)
    if stop_embedded(directory):
        print(f"stopped the embedded PostgreSQL in {directory}")
    else:
        print(f"no embedded PostgreSQL running in {directory}")
    return EXIT_OK
