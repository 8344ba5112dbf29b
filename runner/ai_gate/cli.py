"""The `ai-gate` command: a thin layer over the library modules.

Exit codes (errors.EXIT_CODE_MEANINGS; each subcommand's --help lists those it returns):
  0   pass / go
  1   runtime failure: database unreachable, dbt error or failing dbt test, aborted run,
      interrupted or terminated
  2   a gate failed, or the canary must hold or roll back
  3   input rejected; nothing was written
  4   inconclusive: not enough evidence (the decision is stored)
  64  usage error
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import signal
import subprocess
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

import psycopg
import yaml

from . import (
    __version__,
    bench,
    build,
    canary,
    daily,
    drill,
    evals,
    latency,
    reports,
    routing,
    simulate,
)
from .database import Database, data_dir, first_line, redact, resolve_database, stop_embedded
from .dbt_project import dbt_environment
from .errors import (
    EXIT_CODE_MEANINGS,
    EXIT_GATE_FAILED,
    EXIT_INCONCLUSIVE,
    EXIT_INPUT_REJECTED,
    EXIT_OK,
    EXIT_RUNTIME_FAILURE,
    EXIT_USAGE,
    AiGateError,
    InputRejected,
    RuntimeFailure,
    Terminated,
    UsageError,
)
from .render import printable, table, yes_no

RUN_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
# A stored verdict's exit code; `running` and `aborted` are not verdicts.
VERDICT_EXIT_CODES = {
    "passed": EXIT_OK,
    "failed": EXIT_GATE_FAILED,
    "inconclusive": EXIT_INCONCLUSIVE,
}

DATABASE_HELP = """\
database: DATABASE_URL, else the PG* variables (PGHOST, PGPORT, PGUSER, PGPASSWORD,
PGDATABASE), else an embedded PostgreSQL in AI_GATE_DATA_DIR (default: a per-user
data directory). AI_GATE_SCHEMA names the schema (default public).
"""
_COMMON = (EXIT_OK, EXIT_RUNTIME_FAILURE, EXIT_USAGE)
_REJECTS = (EXIT_OK, EXIT_RUNTIME_FAILURE, EXIT_INPUT_REJECTED, EXIT_USAGE)
_GATES = (EXIT_OK, EXIT_RUNTIME_FAILURE, EXIT_GATE_FAILED, EXIT_INPUT_REJECTED, EXIT_USAGE)
# The exit codes each subcommand can return (its --help lists exactly these).
EXIT_CODES_BY_COMMAND: dict[str, tuple[int, ...]] = {
    "ai-gate": tuple(sorted(EXIT_CODE_MEANINGS)),
    "build": _COMMON,
    "migrate": _COMMON,
    "init-dev": _COMMON,
    "flags": _REJECTS,
    "set": _REJECTS,
    "history": _COMMON,
    "run": (*_GATES[:-1], EXIT_INCONCLUSIVE, EXIT_USAGE),
    "check": (*_GATES[:-1], EXIT_INCONCLUSIVE, EXIT_USAGE),
    "canary": (EXIT_USAGE,),
    "evaluate": (*_GATES[:-1], EXIT_INCONCLUSIVE, EXIT_USAGE),
    "step": _REJECTS,
    "simulate": _REJECTS,
    "drill": (EXIT_USAGE,),
    "rollback": _REJECTS,
    "daily": (*_GATES[:-1], EXIT_INCONCLUSIVE, EXIT_USAGE),
    "latency": _COMMON,
    "bench": _COMMON,
    "exec": _COMMON,
    "db": (EXIT_USAGE,),
    "info": _COMMON,
    "stop": _COMMON,
}
# Where a code means something more precise for one subcommand.
EXIT_CODE_DETAILS: dict[tuple[str, int], str] = {
    ("run", EXIT_OK): "every evaluated gate passed",
    ("run", EXIT_GATE_FAILED): "a gate failed (or was skipped, with --strict)",
    ("check", EXIT_OK): "every evaluated gate passed",
    ("check", EXIT_GATE_FAILED): "a gate failed (or was skipped, with --strict)",
    ("check", EXIT_INPUT_REJECTED): "no such run",
    ("run", EXIT_INCONCLUSIVE): "confidence policy: a gate's threshold lies between its bounds",
    ("check", EXIT_INCONCLUSIVE): "confidence policy: a gate's threshold lies between its bounds",
    ("evaluate", EXIT_OK): "go",
    ("evaluate", EXIT_GATE_FAILED): "hold or rollback",
    ("evaluate", EXIT_INCONCLUSIVE): "inconclusive: keep collecting (the decision is stored)",
    ("daily", EXIT_OK): "every gate passed, and the canary (if one is rolling out) may go",
    ("daily", EXIT_GATE_FAILED): "a gate failed or the canary must hold or roll back, "
    "whatever else happened (see daily-outcome.json)",
    ("daily", EXIT_INPUT_REJECTED): "a record file was rejected and nothing failed",
    ("daily", EXIT_INCONCLUSIVE): "gates passed; the canary decision is inconclusive",
    ("rollback", EXIT_RUNTIME_FAILURE): "a drill step failed (or the database did)",
    ("exec", EXIT_OK): "otherwise: the command's own exit code",
}


def exit_codes_help(command: str) -> str:
    lines = ["exit codes:"]
    for code in EXIT_CODES_BY_COMMAND[command]:
        meaning = EXIT_CODE_DETAILS.get((command, code), EXIT_CODE_MEANINGS[code])
        lines.append(f"  {code:<3} {meaning}")
    return "\n".join(lines) + "\n\n" + DATABASE_HELP


INT4_MAX = 2**31 - 1


class Parser(argparse.ArgumentParser):
    """argparse exits 2 on a usage error; 2 means "gate failed" here, so raise instead."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}\n{self.format_usage().rstrip()}")


def integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None


def bounded_integer(low: int, high: int) -> Callable[[str], int]:
    """An integer argument within [low, high] (the column it is stored in, or sense)."""

    def parse(text: str) -> int:
        value = integer(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low:,} to {high:,}, got {value:,}")
        return value

    return parse


def confidence_argument(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.5 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0.5 and 1 (e.g. 0.95), got {text!r}")
    return value


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}")
    return value


def dbt_vars(text: str) -> dict[str, object]:
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise argparse.ArgumentTypeError(f"--vars is not YAML: {exc}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("--vars must be a YAML mapping, e.g. '{key: value}'")
    return value


def connect_announced() -> Database:
    database = resolve_database()
    sys.stderr.write(f"ai-gate: database {database.describe()}\n")
    return database


# --- handlers ---------------------------------------------------------------------------


def cmd_build(args: argparse.Namespace) -> int:
    database = connect_announced()
    result = build.build(
        database,
        sys.stderr,
        full_refresh=args.full_refresh,
        dbt_vars=args.vars or {},
        select=args.select,
    )
    summary = ", ".join(f"{count} {status}" for status, count in sorted(result.counts.items()))
    print(f"ai-gate build: ok ({summary})")
    return EXIT_OK


def cmd_migrate(args: argparse.Namespace) -> int:
    if args.print:
        # Rendering the SQL needs no database: point dbt at an address it never dials.
        offline = Database(
            {"host": "localhost", "port": "5432", "user": "postgres", "dbname": "postgres"},
            "nowhere (print only)",
        )
        sys.stdout.write(build.migration_sql(offline, args.vars or {}))
        return EXIT_OK
    database = connect_announced()
    build.migrate(database, args.vars or {}, sys.stderr)
    print("ai-gate migrate: ai_training_examples telemetry migration applied")
    return EXIT_OK


def cmd_init_dev(args: argparse.Namespace) -> int:
    database = connect_announced()
    from .project_config import project_var

    schema = str(project_var("product_schema"))
    if build.product_table_exists(database, schema):
        print(f"ai-gate init-dev: {schema}.ai_training_examples already exists; left as it is")
        return EXIT_OK
    build.create_phase1_table(database, schema)
    print(f"ai-gate init-dev: created a Phase-1-shaped {schema}.ai_training_examples")
    return EXIT_OK


def print_configs(configs: Sequence[routing.ProviderConfig], as_json: bool) -> None:
    shares = routing.traffic_shares(configs)
    if as_json:
        payload = [
            {
                **{k: v for k, v in vars(config).items() if k != "last_changed_at"},
                "last_changed_at": config.last_changed_at.isoformat()
                if config.last_changed_at
                else None,
                "traffic_share": round(shares[(config.environment, config.provider)], 6),
            }
            for config in configs
        ]
        print(json.dumps(payload, indent=2, sort_keys=True))
        return
    rows = [
        (
            config.environment,
            config.provider,
            yes_no(config.enabled),
            yes_no(config.is_default),
            config.weight,
            f"{shares[(config.environment, config.provider)]:.1%}",
            config.timeout_ms,
            config.max_retries,
            config.model,
            printable(
                f"#{config.last_change_id} {config.last_changed_by}: {config.last_change_reason}"
            )
            if config.last_change_id
            else "seed default",
        )
        for config in configs
    ]
    headers = (
        "environment",
        "provider",
        "enabled",
        "default",
        "weight",
        "traffic",
        "timeout_ms",
        "retries",
        "model",
        "source",
    )
    print(table(headers, rows))


def cmd_flags_show(args: argparse.Namespace) -> int:
    database = connect_announced()
    configs = routing.effective_configuration(database, args.show_env)
    if not configs and args.show_env:
        raise InputRejected(f"no routing configuration for environment {args.show_env!r}")
    print_configs(configs, args.json)
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
        actor=routing.default_actor() if args.actor is None else args.actor,
        enabled=args.enable,
        make_default=args.default,
        weight=args.weight,
        timeout_ms=args.timeout_ms,
        max_retries=args.max_retries,
    )
    database = connect_announced()
    recorded = routing.record_change(database, change)
    if not recorded.recorded:
        print(f"ai-gate flags set: {args.env}/{args.provider} already as asked; nothing recorded")
    else:
        for before, after in recorded.rows:
            differences = routing.describe_differences(
                before.overridable_values(), after.overridable_values()
            )
            print(
                f"recorded {after.environment}/{after.provider}: {', '.join(differences)} "
                f"(change set {recorded.change_set_id})"
            )
    print_configs(routing.effective_configuration(database, args.env), as_json=False)
    return EXIT_OK


def cmd_flags_history(args: argparse.Namespace) -> int:
    database = connect_announced()
    entries = routing.change_history(database, args.env, args.limit)
    if args.json:
        print(json.dumps([entry.as_json() for entry in entries], indent=2, default=str))
        return EXIT_OK
    if not entries:
        print("no flag changes recorded")
        return EXIT_OK
    rows = [
        (
            entry.change_id,
            entry.changed_at.isoformat(timespec="seconds"),
            entry.environment,
            entry.provider,
            ", ".join(entry.differences()) or "(no value changed)",
            printable(f"{entry.changed_by} via {entry.changed_via}"),
            printable(entry.reason),
        )
        for entry in entries
    ]
    print(table(("id", "changed_at", "environment", "provider", "change", "by", "reason"), rows))
    return EXIT_OK


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


def run_id_argument(text: str) -> str:
    if not RUN_ID_PATTERN.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"invalid run id {text!r}: 1-128 characters of letters, digits and . _ : -, "
            "starting with a letter or digit"
        )
    return text


def baseline_argument(text: str) -> str:
    return text if text == "latest-passed" else run_id_argument(text)


def report_path(text: str) -> Path:
    path = Path(text)
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"directory {str(path.parent)!r} does not exist")
    return path


def emit_report(report: evals.EvalReport, args: argparse.Namespace) -> int:
    """Write every requested rendering of the stored verdict; the exit code follows it."""
    for path, render in (
        (args.report_json, reports.json_report),
        (args.report_md, reports.markdown_report),
        (args.junit, reports.junit_report),
    ):
        if path is not None:
            try:
                reports.write_atomically(path, render(report))
            except OSError as exc:
                raise RuntimeFailure(f"cannot write report {path}: {exc}") from exc
    sys.stdout.write(reports.text_report(report))
    return VERDICT_EXIT_CODES.get(report.status, EXIT_RUNTIME_FAILURE)


def cmd_run(args: argparse.Namespace) -> int:
    database = connect_announced()
    options = evals.RunOptions(
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
    report = evals.run_evaluation(database, options, progress=sys.stderr)
    return emit_report(report, args)


def cmd_check(args: argparse.Namespace) -> int:
    database = connect_announced()
    run_id = args.run_id or evals.latest_run_id(database, args.env)
    report = evals.load_report(database, run_id)
    if report.status == "running":
        sys.stderr.write(f"ai-gate: run {run_id} has not finished (status running)\n")
    return emit_report(report, args)


def duration_argument(text: str) -> object:
    try:
        return canary.parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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
        args.env,
        args.canary,
        args.baseline,
        since=args.since,
        run_id=args.run_id,
        actor=args.actor,
        include_synthetic=args.include_synthetic,
    )
    if args.json:
        print(json.dumps(decision.as_json(), indent=2, default=str))
    else:
        sys.stdout.write(canary.render_decision(decision))
    if args.apply:
        if decision.decision != "rollback":
            print(f"--apply: decision is {decision.decision}; nothing to apply")
        else:
            configs = routing.effective_configuration(database, args.env)
            breached = [
                r.name for r in decision.rules if r.kind == "rollback" and r.status == "breached"
            ]
            reason = f"canary rollback: decision #{decision.decision_id} ({', '.join(breached)})"
            recorded = routing.record_changes(
                database,
                canary.rollback_changes(
                    configs,
                    args.canary,
                    args.baseline,
                    reason,
                    args.actor or routing.default_actor(),
                    "ai-gate canary evaluate --apply",
                ),
            )
            print(f"--apply: rollback recorded (change set {recorded.change_set_id})")
            print_configs(routing.effective_configuration(database, args.env), as_json=False)
    return decision.exit_code


def cmd_canary_step(args: argparse.Namespace) -> int:
    database = connect_announced()
    result = canary.step(database, args.env, args.canary, args.baseline, args.actor)
    print(
        f"canary step: {args.canary} {result.from_percent:.1f}% -> {result.to_percent}% of "
        f"{args.env} traffic (after go decision #{result.decision_id}; change set "
        f"{result.recorded.change_set_id})"
    )
    print_configs(routing.effective_configuration(database, args.env), as_json=False)
    return EXIT_OK


def cmd_simulate(args: argparse.Namespace) -> int:
    database = connect_announced()
    result = simulate.simulate(
        database, args.scenario, args.rows, args.seed, args.env, args.canary, args.baseline
    )
    print(
        f"simulated {result.scenario}: {result.telemetry_rows:,} synthetic telemetry rows "
        f"({result.canary_rows:,} to the canary), eval run {result.eval_run_id} with "
        f"{result.eval_samples:,} synthetic samples"
    )
    return EXIT_OK


def cmd_drill_missing_subcommand(args: argparse.Namespace) -> int:
    raise UsageError("ai-gate drill: give a subcommand: rollback")


def cmd_drill_rollback(args: argparse.Namespace) -> int:
    database = connect_announced()
    evidence = drill.rollback_drill(database, args.env, args.canary, args.baseline, args.actor)
    if args.json:
        print(json.dumps(evidence.as_json(), indent=2, default=str))
    else:
        print(
            f"rollback drill {evidence.drill_id} in {evidence.environment}: "
            f"{'SUCCEEDED' if evidence.succeeded else 'FAILED'}"
        )
        print(
            table(
                ("at", "step", "ok", "detail"),
                [(s["at"], s["step"], yes_no(bool(s["ok"])), s["detail"]) for s in evidence.steps],
            )
        )
        for label, state in (
            ("before", evidence.before_state),
            ("during", evidence.during_state),
            ("after", evidence.after_state),
        ):
            print(f"{label}: {json.dumps(state, sort_keys=True)}")
        if evidence.error:
            print(f"error: {evidence.error}")
    return EXIT_OK if evidence.succeeded else EXIT_RUNTIME_FAILURE


def cmd_latency(args: argparse.Namespace) -> int:
    database = connect_announced()
    start, end, rows = latency.percentiles(database, args.since, exact=args.exact)
    if args.json:
        print(
            json.dumps(
                {
                    "since": start.isoformat(),
                    "until": end.isoformat(),
                    "exact": args.exact,
                    "rows": [row.as_json() for row in rows],
                },
                indent=2,
            )
        )
        return EXIT_OK

    def ms(value: float | None) -> str:
        return "n/a" if value is None else f"{value:,.1f}"

    method = "exact percentile_cont" if args.exact else "histogram rollups + raw tail"
    print(f"latency {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC ({method})")
    print(
        table(
            ("provider", "requests", "p50_ms", "p95_ms", "p99_ms"),
            [
                (
                    row.selected_provider or "(all)",
                    f"{row.requests:,}",
                    ms(row.p50_ms),
                    ms(row.p95_ms),
                    ms(row.p99_ms),
                )
                for row in rows
            ],
        )
    )
    return EXIT_OK


def cmd_bench(args: argparse.Namespace) -> int:
    if args.calibration:
        from . import calibration

        markdown = calibration.render_markdown(
            calibration.run_calibration(args.trials, args.seed), args.seed
        )
        sys.stdout.write(markdown)
        if args.write_doc is not None:
            _write_doc_section(args.write_doc, "bench:calibration", markdown)
        return EXIT_OK
    database = connect_announced()
    sizes = args.rows or [1_000_000]
    if any(rows < 1000 for rows in sizes):
        raise UsageError("ai-gate bench: --rows must be at least 1000")
    build.build(database, sys.stderr)  # the eval tables the ingest benchmark writes to
    info, results = bench.run_bench(database, sizes, args.runs, args.ingest_samples, sys.stderr)
    markdown = bench.render_markdown(info, results)
    sys.stdout.write(markdown)
    if args.write_doc is not None:
        _write_doc_section(args.write_doc, "bench:results", markdown)
    return EXIT_OK


def _write_doc_section(path: Path, marker: str, markdown: str) -> None:
    """Put `markdown` between the document's `<!-- marker -->` lines (appended if none)."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    begin, end = f"<!-- {marker} -->\n", f"<!-- /{marker} -->"
    if begin in text and end in text:
        text = text.split(begin)[0] + begin + markdown + end + text.split(end, 1)[1]
    else:
        text += f"\n{begin}{markdown}{end}\n"
    path.write_text(text, encoding="utf-8")


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
    for report in outcome.runs:
        sys.stdout.write(reports.text_report(report) + "\n")
    if outcome.decision is not None:
        sys.stdout.write(canary.render_decision(outcome.decision))
    elif outcome.canary_skipped:
        print(f"canary evaluation skipped: {outcome.canary_skipped}")
    print()
    print(
        table(
            ("file", "outcome", "run"),
            [(f.file, f.outcome.upper(), f.run_id or f.message or "") for f in outcome.files],
        )
    )
    if outcome.decision is not None:
        print(f"canary: {outcome.decision.decision.upper()} (#{outcome.decision.decision_id})")
    print(f"ai-gate daily: exit {outcome.exit_code}")
    return outcome.exit_code


# --- parser -----------------------------------------------------------------------------


def build_parser() -> Parser:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = Parser(
        prog="ai-gate",
        description="Provider routing controls, routing telemetry tests and release gates.",
        epilog=exit_codes_help("ai-gate"),
        formatter_class=formatter,
    )
    parser.add_argument("--version", action="version", version=f"ai-gate {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    commands.required = True

    def add(
        name: str,
        handler: Callable[[argparse.Namespace], int],
        help_text: str,
        parent: argparse._SubParsersAction = commands,
    ) -> Parser:
        sub = parent.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=exit_codes_help(name),
            formatter_class=formatter,
        )
        sub.set_defaults(handler=handler)
        return sub

    def add_vars(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--vars",
            type=dbt_vars,
            metavar="YAML",
            help="dbt vars, as for dbt (e.g. '{telemetry_cutover: 2026-12-01}')",
        )

    p = add(
        "build",
        cmd_build,
        "Migrate the product's ai_training_examples table, then dbt build the project "
        "(seeds, models, tests); names each failing node.",
    )
    p.add_argument(
        "--full-refresh",
        action="store_true",
        help="pass --full-refresh to dbt (the change log keeps its rows)",
    )
    p.add_argument("--select", metavar="SELECTOR", help="dbt node selection")
    add_vars(p)

    p = add(
        "migrate",
        cmd_migrate,
        "Apply the ai_training_examples telemetry migration (the dbt operation), or print its SQL.",
    )
    p.add_argument(
        "--print",
        action="store_true",
        help="print the SQL for the product repository's migrations; needs no database",
    )
    add_vars(p)

    add(
        "init-dev",
        cmd_init_dev,
        "Create a Phase-1-shaped ai_training_examples on a development database "
        "(never on the product's).",
    )

    flags = add(
        "flags",
        cmd_flags_show,
        "Show the effective routing configuration; `set` and `history` change and audit it.",
    )
    flags.add_argument("--env", dest="show_env", metavar="ENV", help="only this environment")
    flags.add_argument("--json", action="store_true", help="print JSON")
    flag_commands = flags.add_subparsers(
        dest="flags_command", metavar="SUBCOMMAND", parser_class=Parser
    )

    p = add(
        "set",
        cmd_flags_set,
        "Record an audited change of one provider's routing flags in one environment. "
        "Refused, with nothing written, if it would break a routing invariant.",
        flag_commands,
    )
    p.add_argument("provider")
    p.add_argument("--env", required=True, metavar="ENV")
    toggle = p.add_mutually_exclusive_group()
    toggle.add_argument("--enable", dest="enable", action="store_const", const=True)
    toggle.add_argument("--disable", dest="enable", action="store_const", const=False)
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

    p = add(
        "history", cmd_flags_history, "Print the audited change log, newest first.", flag_commands
    )
    p.add_argument("--env", metavar="ENV", help="only this environment")
    p.add_argument(
        "--limit",
        type=bounded_integer(1, 100_000),
        default=50,
        metavar="N",
        help="at most N changes (default 50)",
    )
    p.add_argument("--json", action="store_true", help="print JSON")

    def add_report_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--report-json", type=report_path, metavar="PATH", help="write the verdict as JSON"
        )
        sub.add_argument(
            "--report-md",
            type=report_path,
            metavar="PATH",
            help="write the verdict as Markdown (for a GitHub step summary)",
        )
        sub.add_argument(
            "--junit",
            type=report_path,
            metavar="PATH",
            help="write JUnit XML, one test case per gate",
        )

    p = add(
        "run",
        cmd_run,
        "Validate a JSONL file of eval records, ingest it as one run, judge it against "
        "the release gates and report. Exit 0 pass, 2 gate failed, 3 input rejected.",
    )
    p.add_argument(
        "file", help="JSONL eval records (docs/eval-record.schema.json); - reads standard input"
    )
    p.add_argument("--env", default="prod", metavar="ENV", help="environment (default prod)")
    p.add_argument("--run-type", default="offline", choices=evals.RUN_TYPES)
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

    p = add(
        "check",
        cmd_check,
        "Report a stored run's verdict again (database only, no dbt), with the same "
        "outputs and exit codes as `run`.",
    )
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--run-id", type=run_id_argument, metavar="ID")
    which.add_argument("--latest", action="store_true", help="the most recently started run")
    p.add_argument("--env", metavar="ENV", help="with --latest: only this environment")
    add_report_options(p)

    canary_parser = add(
        "canary",
        cmd_canary_missing_subcommand,
        "Canary rollout: evaluate the canary against the baseline; step it.",
    )
    canary_commands = canary_parser.add_subparsers(
        dest="canary_command", metavar="SUBCOMMAND", parser_class=Parser
    )

    def add_arms(sub: argparse.ArgumentParser, env_default: str | None = "prod") -> None:
        sub.add_argument("--env", default=env_default, required=env_default is None, metavar="ENV")
        sub.add_argument("--canary", default="custom", metavar="PROVIDER")
        sub.add_argument("--baseline", default="openai", metavar="PROVIDER")
        sub.add_argument("--actor", help="who (default AI_GATE_ACTOR, else the OS user)")

    p = add(
        "evaluate",
        cmd_canary_evaluate,
        "Compare the canary arm with the baseline arm and decide go, hold, rollback or "
        "inconclusive (exit 0, 2, 2, 4); the decision is stored with its inputs. "
        "Synthetic rows are left out unless --include-synthetic.",
        canary_commands,
    )
    add_arms(p)
    window = p.add_mutually_exclusive_group()
    window.add_argument(
        "--since",
        type=duration_argument,
        metavar="DURATION",
        help="telemetry and eval window ending now, e.g. 30m, 6h (default 1h)",
    )
    window.add_argument(
        "--run-id",
        type=run_id_argument,
        metavar="ID",
        help="take quality from this eval run (telemetry: the last hour)",
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

    p = add(
        "step",
        cmd_canary_step,
        "Move the canary to the rollout plan's next share of traffic; only after a go "
        "decision newer than the canary's last flag change.",
        canary_commands,
    )
    add_arms(p)

    p = add(
        "simulate",
        cmd_simulate,
        "Write deterministic synthetic canary telemetry and eval samples (marked "
        "synthetic) within the hour before now, for dry runs and demos.",
    )
    p.add_argument("--scenario", required=True, choices=sorted(simulate.SCENARIOS))
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

    drill_parser = add("drill", cmd_drill_missing_subcommand, "Operational drills.")
    drill_commands = drill_parser.add_subparsers(
        dest="drill_command", metavar="SUBCOMMAND", parser_class=Parser
    )
    p = add(
        "rollback",
        cmd_drill_rollback,
        "Rehearse the canary rollback: record the flags, roll back, verify nothing routes "
        "to the canary, restore exactly, verify; store the evidence. Exit 1 if a step "
        "failed.",
        drill_commands,
    )
    add_arms(p, env_default=None)
    p.add_argument("--json", action="store_true", help="print the evidence as JSON")

    p = add(
        "daily",
        cmd_daily,
        "The scheduler's command: build, ingest and gate every record file, evaluate the "
        "canary, write reports. Exit 2 whenever a gate failed or the canary must hold or "
        "roll back, even if another file was rejected.",
    )
    p.add_argument("--env", default="prod", metavar="ENV")
    p.add_argument(
        "--records",
        required=True,
        metavar="PATH",
        help="a JSONL file, or a folder of *.jsonl files",
    )
    p.add_argument(
        "--report-dir",
        type=Path,
        metavar="DIR",
        help="write each run's JSON, Markdown and JUnit reports, and daily-outcome.json, "
        "here (created if missing)",
    )
    p.add_argument(
        "--lock-timeout",
        type=seconds,
        default=600.0,
        metavar="SECONDS",
        help="how long to wait for a concurrent daily run (default 600)",
    )
    p.add_argument("--canary", default="custom", metavar="PROVIDER")
    p.add_argument("--baseline", default="openai", metavar="PROVIDER")

    p = add(
        "latency",
        cmd_latency,
        "p50/p95/p99 generation latency per provider and overall over a window ending "
        "now, from the latency rollups plus the raw rows newer than them.",
    )
    p.add_argument(
        "--since",
        type=duration_argument,
        default=canary.parse_duration("7d"),
        metavar="DURATION",
        help="window length, e.g. 1h, 7d, 90d (default 7d)",
    )
    p.add_argument(
        "--exact",
        action="store_true",
        help="exact percentile_cont (audit path) instead of the histograms",
    )
    p.add_argument("--json", action="store_true", help="print JSON")

    p = add(
        "bench",
        cmd_bench,
        "Benchmark: build telemetry tables of realistic width in bench schemas, time the "
        "latency queries (checklist baseline side by side), the rollup refresh, eval "
        "ingest and check --latest; print a Markdown table. Asserts nothing.",
    )
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

    p = add(
        "exec",
        cmd_exec,
        "Run a command (dbt, sqlfluff, psql, ...) with ai-gate's database in its "
        "environment: PG* variables, DBT_PROFILES_DIR and the dbt secret.",
    )
    p.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND [ARGS...]")

    db = add("db", cmd_db_missing_subcommand, "The database ai-gate uses.")
    db_commands = db.add_subparsers(dest="db_command", metavar="SUBCOMMAND", parser_class=Parser)
    add(
        "info",
        cmd_db_info,
        "Print which database ai-gate uses and its server version.",
        db_commands,
    )
    add(
        "stop",
        cmd_db_stop,
        "Stop the embedded PostgreSQL (it is left running between commands).",
        db_commands,
    )
    return parser


def _terminate(signum: int, frame: object) -> None:
    raise Terminated()


def _say(text: str) -> None:
    """Every error line goes out through here: no connection password, ever."""
    sys.stderr.write(redact(text) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    # A scheduler stops a job with SIGTERM: behave exactly as on Ctrl-C (the open
    # transaction rolls back, a run being judged ends `aborted`).
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        args = build_parser().parse_args(argv)
        return int(args.handler(args))
    except InputRejected as exc:
        _say(f"ai-gate: {exc}")
        for problem in exc.problems:
            _say(f"  {problem}")
        return EXIT_INPUT_REJECTED
    except UsageError as exc:
        _say(str(exc))
        return exc.exit_code
    except AiGateError as exc:
        _say(f"ai-gate: {exc}")
        return exc.exit_code
    except Terminated:
        _say("ai-gate: terminated (SIGTERM); nothing more was written")
        return EXIT_RUNTIME_FAILURE
    except KeyboardInterrupt:
        _say("ai-gate: interrupted; nothing more was written")
        return EXIT_RUNTIME_FAILURE
    except BrokenPipeError:
        return EXIT_RUNTIME_FAILURE
    except psycopg.OperationalError as exc:
        _say(f"ai-gate: lost the database connection: {first_line(str(exc))}")
        return EXIT_RUNTIME_FAILURE
    except psycopg.Error as exc:
        _say(f"ai-gate: database error: {first_line(str(exc))}")
        return EXIT_RUNTIME_FAILURE
    except Exception:  # an unexpected bug is a runtime failure, never a pass or a gate verdict
        _say(traceback.format_exc().rstrip())
        return EXIT_RUNTIME_FAILURE
    finally:
        signal.signal(signal.SIGTERM, previous)


def entrypoint() -> NoReturn:
    sys.exit(main())
