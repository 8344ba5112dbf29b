"""`ai-gate build`: migrate the product table, then `dbt build` the project."""

from __future__ import annotations

import csv
import json
from importlib import resources
from typing import TextIO

from psycopg import sql

from ai_gate.database import Database
from ai_gate.dbt_macros import render_macro
from ai_gate.dbt_project import DbtResult, project_dir, require_success, run_dbt
from ai_gate.errors import RuntimeFailure
from ai_gate.project_config import project_var

MIGRATION_OPERATION = "migrate_ai_training_examples"


def product_table_exists(database: Database, product_schema: str) -> bool:
    with database.connect() as conn:
        row = conn.execute(
            "select to_regclass(%s) is not null",
            (f'"{product_schema}".ai_training_examples',),
        ).fetchone()
        return bool(row and row[0])


def is_built(database: Database) -> bool:
    """Whether the eval tables a build creates exist in the schema (a first check, not
    a proof that the build is current)."""
    with database.connect() as conn:
        row = conn.execute(
            "select to_regclass(%s) is not null and to_regclass(%s) is not null",
            (
                f'"{database.schema}".ai_eval_runs',
                f'"{database.schema}".ai_eval_samples',
            ),
        ).fetchone()
        return bool(row and row[0])


def create_phase1_table(database: Database, product_schema: str) -> None:
    text = resources.files("ai_gate").joinpath("sql/phase1_ai_training_examples.sql").read_text()
    statement = sql.SQL(text).format(schema=sql.Identifier(product_schema))
    with database.connect() as conn, conn.transaction():
        conn.execute(
            sql.SQL("create schema if not exists {}").format(sql.Identifier(product_schema))
        )
        conn.execute(statement)


def ensure_product_table(database: Database, product_schema: str, log: TextIO) -> None:
    if product_table_exists(database, product_schema):
        return
    if database.is_embedded:
        create_phase1_table(database, product_schema)
        log.write(
            f"ai-gate: created a Phase-1-shaped {product_schema}.ai_training_examples "
            "on the embedded database\n"
        )
        return
    raise RuntimeFailure(
        f"{product_schema}.ai_training_examples does not exist on {database.describe()}. "
        "It belongs to the product application; on a development database create a "
        "Phase-1-shaped one with `ai-gate init-dev`."
    )


def vars_argument(dbt_vars: dict[str, object]) -> list[str]:
    return ["--vars", json.dumps(dbt_vars)] if dbt_vars else []


def migrate(database: Database, dbt_vars: dict[str, object], log: TextIO) -> None:
    # the profile's `migrate` target autocommits: CREATE INDEX CONCURRENTLY needs it
    args = ["run-operation", MIGRATION_OPERATION, *vars_argument(dbt_vars)]
    result = run_dbt(database, args, stream=log, profile_target="migrate")
    assert isinstance(result, DbtResult)
    require_success(result, f"dbt run-operation {MIGRATION_OPERATION}")


def migration_sql(dbt_vars: dict[str, object]) -> str:
    """The migration as one SQL script, rendered from the project's macros without
    dbt or a database (nothing is executed)."""
    script = render_macro(
        "ai_training_examples_migration_script",
        [
            "migrations/ai_training_examples_migration_script.sql",
            "migrations/ai_training_examples_migration_statements.sql",
            "migrations/ai_training_examples_telemetry_columns.sql",
            "migrations/ai_training_examples_telemetry_indexes.sql",
        ],
        dbt_vars,
    )
    return str(script)


def build(
    database: Database,
    log: TextIO,
    *,
    full_refresh: bool = False,
    dbt_vars: dict[str, object] | None = None,
    select: list[str] | None = None,
) -> DbtResult:
    dbt_vars = dbt_vars or {}
    product_schema = str(project_var("product_schema", dbt_vars))
    ensure_product_table(database, product_schema, log)
    migrate(database, dbt_vars, log)
    reshaped = reshaped_seeds(database)
    if reshaped and not full_refresh:
        # dbt reloads a seed into its existing table, which fails when the CSV gained
        # or lost a column; such a seed is recreated first (its rows are the CSV's).
        log.write(f"ai-gate build: seeds whose columns changed, recreated: {', '.join(reshaped)}\n")
        seeded = run_dbt(
            database,
            ["seed", "--full-refresh", "--select", *reshaped, *vars_argument(dbt_vars)],
            stream=log,
        )
        assert isinstance(seeded, DbtResult)
        require_success(seeded, "dbt seed --full-refresh")
    args = ["build", *vars_argument(dbt_vars)]
    if full_refresh:
        args.append("--full-refresh")
    if select:
        args += ["--select", *select]
    result = run_dbt(database, args, stream=log)
    assert isinstance(result, DbtResult)
    require_success(result, "dbt build")
    if select and not result.counts:
        # dbt only warns and exits 0 when a selection matches nothing
        raise RuntimeFailure(
            f"--select {' '.join(select)!r} matches no model, seed or test of the project: nothing "
            "was built (dbt's selection syntax: `ai-gate exec -- dbt ls --select ...`)"
        )
    return result


def reshaped_seeds(database: Database) -> list[str]:
    """Seeds whose table exists with other columns than their CSV's header."""
    headers = {}
    for path in sorted((project_dir() / "seeds").glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            headers[path.stem] = next(csv.reader(handle), [])
    with database.connect() as conn:
        rows = conn.execute(
            "select table_name, array_agg(column_name::text order by ordinal_position)"
            " from information_schema.columns where table_schema = %s"
            " and table_name = any(%s) group by table_name",
            (database.schema, list(headers)),
        ).fetchall()
    return sorted(name for name, columns in rows if list(columns) != headers[name])
