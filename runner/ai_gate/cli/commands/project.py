"""The dbt project and the product table: `build`, `migrate`, `init-dev`.

Each command declared once (`@command`: name, help, exit codes, options), beside
its handler, which takes the parsed arguments, calls the library, prints what a
formatter renders, and returns the exit code."""

from __future__ import annotations

import argparse
import sys

from ai_gate import build
from ai_gate.cli.arguments import add_vars
from ai_gate.cli.common import DONE, connect_announced
from ai_gate.cli.registry import command
from ai_gate.errors import EXIT_OK, EXIT_RUNTIME_FAILURE, EXIT_USAGE
from ai_gate.formatters import text
from ai_gate.project_config import project_var


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
