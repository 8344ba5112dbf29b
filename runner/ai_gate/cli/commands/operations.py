"""The scheduler's and the operators' views: `daily`, `report` (the HTML report), `latency`,
`cost`.

Each command declared once (`@command`: name, help, exit codes, options), beside
its handler, which takes the parsed arguments, calls the library, prints what a
formatter renders, and returns the exit code."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ai_gate import daily
from ai_gate.cli.arguments import add_arms, duration_argument, report_path, seconds
from ai_gate.cli.common import DONE, connect_announced
from ai_gate.cli.registry import command
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
from ai_gate.files import write_output
from ai_gate.formatters import json as json_format
from ai_gate.formatters import text
from ai_gate.stats import parse_duration
from ai_gate.telemetry import latency, usage


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
    p.add_argument(
        "--no-build",
        action="store_true",
        help="do not build: the project is built by your own dbt job (dbt Cloud, an "
        "orchestrator) before daily runs; a database that is not built is an error",
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
        build_project=not args.no_build,
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
    from ai_gate import html_report  # matplotlib: loaded only for the report
    from ai_gate.formatters import html

    database = connect_announced()
    data = html_report.read_html_report(database, args.env, args.since, canary=args.canary)
    try:
        write_output(args.html, html.render(data))
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


def _cost_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--since",
        type=duration_argument,
        default=parse_duration("30d"),
        metavar="DURATION",
        help="window length, e.g. 1h, 7d, 90d (default 30d)",
    )
    p.add_argument("--json", action="store_true", help="print JSON")


@command(
    "cost",
    "Tokens and cost per provider over a window ending now (and of the fallbacks), "
    "from the usage rollups plus the raw rows newer than them. A cost is the one the "
    "generation recorded, else its tokens at the seed ai_provider_prices; generations "
    "with neither are counted as unknown, never as free.",
    exits={EXIT_OK: DONE, EXIT_RUNTIME_FAILURE: None, EXIT_USAGE: None},
    arguments=_cost_arguments,
)
def cmd_cost(args: argparse.Namespace) -> int:
    database = connect_announced()
    start, end, rows = usage.by_provider(database, args.since)
    render = json_format.usage if args.json else text.usage
    sys.stdout.write(render(start, end, rows))
    return EXIT_OK
