"""The command line: every subcommand, its options and their checks, its help and the
exit codes it can return. Arguments are checked here, before anything connects."""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import yaml

from ai_gate import __version__
from ai_gate.cli import commands as c
from ai_gate.errors import (
    EXIT_CODE_MEANINGS,
    EXIT_GATE_FAILED,
    EXIT_INCONCLUSIVE,
    EXIT_INPUT_REJECTED,
    EXIT_OK,
    EXIT_RUNTIME_FAILURE,
    EXIT_USAGE,
    UsageError,
)
from ai_gate.evals.ingest import RUN_TYPES
from ai_gate.stats import parse_duration
from ai_gate.telemetry.simulate import SCENARIOS

RUN_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")

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
    "report": _REJECTS,
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


def duration_argument(text: str) -> object:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_arms(
    sub: argparse.ArgumentParser, env_default: str | None = "prod", *, actor: bool = True
) -> None:
    """--env, --canary and --baseline (and --actor): the arms a canary is judged on."""
    sub.add_argument(
        "--env",
        default=env_default,
        required=env_default is None,
        metavar="ENV",
        help="environment" + (f" (default {env_default})" if env_default else " (required)"),
    )
    sub.add_argument(
        "--canary",
        metavar="PROVIDER",
        help="canary provider (default: the one whose routing seed role is canary)",
    )
    sub.add_argument(
        "--baseline",
        metavar="PROVIDER",
        help="baseline provider (default: the one whose routing seed role is primary, "
        "else the default provider)",
    )
    if actor:
        sub.add_argument("--actor", help="who (default AI_GATE_ACTOR, else the OS user)")


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
        c.cmd_build,
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
        c.cmd_migrate,
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
        c.cmd_init_dev,
        "Create a Phase-1-shaped ai_training_examples on a development database "
        "(never on the product's).",
    )

    flags = add(
        "flags",
        c.cmd_flags_show,
        "Show the effective routing configuration; `set` and `history` change and audit it.",
    )
    flags.add_argument("--env", dest="show_env", metavar="ENV", help="only this environment")
    flags.add_argument("--json", action="store_true", help="print JSON")
    flag_commands = flags.add_subparsers(
        dest="flags_command", metavar="SUBCOMMAND", parser_class=Parser
    )

    p = add(
        "set",
        c.cmd_flags_set,
        "Record an audited change of one provider's routing flags in one environment. "
        "Refused, with nothing written, if it would break a routing invariant.",
        flag_commands,
    )
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

    p = add(
        "history", c.cmd_flags_history, "Print the audited change log, newest first.", flag_commands
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
        c.cmd_run,
        "Validate a JSONL file of eval records, ingest it as one run, judge it against "
        "the release gates and report. Exit 0 pass, 2 gate failed, 3 input rejected.",
    )
    p.add_argument(
        "file", help="JSONL eval records (docs/eval-record.schema.json); - reads standard input"
    )
    p.add_argument("--env", default="prod", metavar="ENV", help="environment (default prod)")
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

    p = add(
        "check",
        c.cmd_check,
        "Report a stored run's verdict again (database only, no dbt), with the same "
        "outputs and exit codes as `run`.",
    )
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--run-id", type=run_id_argument, metavar="ID", help="the run to report again"
    )
    which.add_argument("--latest", action="store_true", help="the most recently started run")
    p.add_argument("--env", metavar="ENV", help="with --latest: only this environment")
    add_report_options(p)

    canary_parser = add(
        "canary",
        c.cmd_canary_missing_subcommand,
        "Canary rollout: evaluate the canary against the baseline; step it.",
    )
    canary_commands = canary_parser.add_subparsers(
        dest="canary_command", metavar="SUBCOMMAND", parser_class=Parser
    )

    p = add(
        "evaluate",
        c.cmd_canary_evaluate,
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

    p = add(
        "step",
        c.cmd_canary_step,
        "Move the canary to the rollout plan's next share of traffic; only after a go "
        "decision newer than the canary's last flag change.",
        canary_commands,
    )
    add_arms(p)

    p = add(
        "simulate",
        c.cmd_simulate,
        "Write deterministic synthetic canary telemetry and eval samples (marked "
        "synthetic) within the hour before now, for dry runs and demos.",
    )
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

    drill_parser = add("drill", c.cmd_drill_missing_subcommand, "Operational drills.")
    drill_commands = drill_parser.add_subparsers(
        dest="drill_command", metavar="SUBCOMMAND", parser_class=Parser
    )
    p = add(
        "rollback",
        c.cmd_drill_rollback,
        "Rehearse the canary rollback: record the flags, roll back, verify nothing routes "
        "to the canary, restore exactly, verify; store the evidence. Exit 1 if a step "
        "failed.",
        drill_commands,
    )
    add_arms(p, env_default=None)
    p.add_argument("--json", action="store_true", help="print the evidence as JSON")

    p = add(
        "daily",
        c.cmd_daily,
        "The scheduler's command: build, ingest and gate every record file, evaluate the "
        "canary, write reports. Exit 2 whenever a gate failed or the canary must hold or "
        "roll back, even if another file was rejected.",
    )
    add_arms(p, actor=False)
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

    p = add(
        "report",
        c.cmd_report,
        "Write one self-contained HTML file (no network access when opened) of an "
        "environment over a window: gate history, daily latency, canary decisions and "
        "traffic share, flag changes and drills.",
    )
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

    p = add(
        "latency",
        c.cmd_latency,
        "p50/p95/p99 generation latency per provider and overall over a window ending "
        "now, from the latency rollups plus the raw rows newer than them.",
    )
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

    p = add(
        "bench",
        c.cmd_bench,
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
        c.cmd_exec,
        "Run a command (dbt, sqlfluff, psql, ...) with ai-gate's database in its "
        "environment: PG* variables, DBT_PROFILES_DIR and the dbt secret.",
    )
    p.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND [ARGS...]")

    db = add("db", c.cmd_db_missing_subcommand, "The database ai-gate uses.")
    db_commands = db.add_subparsers(dest="db_command", metavar="SUBCOMMAND", parser_class=Parser)
    add(
        "info",
        c.cmd_db_info,
        "Print which database ai-gate uses and its server version.",
        db_commands,
    )
    add(
        "stop",
        c.cmd_db_stop,
        "Stop the embedded PostgreSQL (it is left running between commands).",
        db_commands,
    )
    return parser
