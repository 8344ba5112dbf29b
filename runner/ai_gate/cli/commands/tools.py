"""Tools: `bench`, `exec`, `db info`, `db stop`.

Each command declared once (`@command`: name, help, exit codes, options), beside
its handler, which takes the parsed arguments, calls the library, prints what a
formatter renders, and returns the exit code."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from ai_gate import build
from ai_gate.cli.arguments import INT4_MAX, bounded_integer, integer
from ai_gate.cli.common import DONE, connect_announced
from ai_gate.cli.registry import command
from ai_gate.database import data_dir, resolve_database, stop_embedded
from ai_gate.dbt_project import dbt_environment
from ai_gate.errors import EXIT_OK, EXIT_RUNTIME_FAILURE, EXIT_USAGE, UsageError


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
        "--replay-runs",
        type=bounded_integer(0, 100_000),
        default=1000,
        metavar="N",
        help="with --files: stored runs `ai-gate replay` judges again (default 1000; 0 skips)",
    )
    p.add_argument(
        "--replay-samples",
        type=bounded_integer(1, 1_000_000),
        default=2000,
        metavar="N",
        help="with --files: samples per replayed run (default 2000)",
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
    from ai_gate_tools import bench, calibration, calibration_report
    from ai_gate_tools.doc_sections import write_doc_section

    if args.files:
        from ai_gate_tools import bench_files

        database = connect_announced()
        results = bench_files.run_file_bench(
            database,
            args.import_mb,
            args.import_attempts,
            args.report_runs,
            sys.stderr,
            replay_runs=args.replay_runs,
            replay_samples=args.replay_samples,
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
        markdown_text = calibration_report.render_markdown(
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
