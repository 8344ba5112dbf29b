"""The latency functions' plans, as PostgreSQL runs them (auto_explain of every nested
statement, JSON, with actual row counts): the product table is read only at the
window's edges, through its index, never sorted or scanned whole.

Deterministic: plan shapes and row counts, no timings. The planner may pick either
of two plans for the edges' grouping from sampled statistics (a hash, or a sort of
the edges' own rows); both pass, and a sort of more rows than the edges hold fails.
The staging view once hid the
product table behind a CTE the planner cannot pull up, and every provider probe
sorted the whole table (issue 20); the second test puts that view back and shows the
check catches it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import psycopg
import pytest
from conftest import ClonedDatabase

PRODUCT_TABLE = "ai_training_examples"
FUNCTIONS = ("ai_latency_percentiles", "ai_latency_percentiles_exact", "ai_usage_by_provider")
WINDOWS = ("90 days", "7 days", "1 day")

# The staging view as it was before issue 20: the import-CTE idiom.
CTE_SHAPED_STAGING_VIEW = """
create or replace view stg_product__ai_training_examples as
with source_rows as (select * from ai_training_examples),
telemetry as (
    select cast(id as text) as generation_id, created_at, request_id, requested_provider,
        selected_provider, route_strategy, fallback_provider, fallback_used, latency_ms,
        prompt_template_version, model, cast(input_tokens as bigint) as input_tokens,
        cast(output_tokens as bigint) as output_tokens, cost_usd as recorded_cost_usd
    from source_rows
)
select * from telemetry
"""


def nested_plans(
    db: ClonedDatabase, statement: str, params: tuple, settings: tuple[str, ...] = ()
) -> list[dict]:
    """The JSON plan of every statement `statement` runs, functions' statements too."""
    plans: list[dict] = []

    def collect(diagnostic: psycopg.errors.Diagnostic) -> None:
        message = diagnostic.message_primary or ""
        if "plan:" in message:
            plans.append(json.loads(message.split("plan:", 1)[1])["Plan"])

    with db.database.connect() as conn:
        conn.add_notice_handler(collect)
        for setting in (
            "load 'auto_explain'",
            "set auto_explain.log_min_duration = 0",
            "set auto_explain.log_nested_statements = on",
            "set auto_explain.log_analyze = on",
            "set auto_explain.log_timing = off",
            "set auto_explain.log_format = json",
            "set auto_explain.log_level = notice",
            "set client_min_messages = notice",
            *settings,
        ):
            conn.execute(setting)
        conn.execute(statement, params).fetchall()
    return plans


def nodes(plan: dict) -> Iterator[dict]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def reads_product_table(plan: dict) -> bool:
    return any(node.get("Relation Name") == PRODUCT_TABLE for node in nodes(plan))


def inputs(node: dict) -> list[dict]:
    """The nodes whose rows flow into `node`: not the InitPlans and SubPlans it only
    hangs on to (a CTE's own plan)."""
    return [
        child
        for child in node.get("Plans", [])
        if child.get("Parent Relationship") not in ("InitPlan", "SubPlan")
    ]


def fed_by_product_rows(node: dict) -> bool:
    if node.get("Relation Name") == PRODUCT_TABLE:
        return True
    return any(fed_by_product_rows(child) for child in inputs(node))


def rows_sorted(node: dict) -> int:
    return sum(child["Actual Rows"] * child["Actual Loops"] for child in inputs(node))


def plan_problems(plans: list[dict], edge_rows: int, providers: int) -> list[str]:
    """What in these plans reads the product table beyond the window's edges."""
    problems = []
    rows_read = 0
    for plan in plans:
        for node in nodes(plan):
            if node.get("Relation Name") == PRODUCT_TABLE:
                if node["Node Type"] not in ("Index Scan", "Index Only Scan"):
                    problems.append(f"{node['Node Type']} of {PRODUCT_TABLE}")
                rows_read += (node["Actual Rows"] + node.get("Rows Removed by Filter", 0)) * node[
                    "Actual Loops"
                ]
            # Sorting the edges' own rows (a GroupAggregate the planner may pick) is
            # fine; sorting more rows than the edges hold is the regression.
            if (
                node["Node Type"] in ("Sort", "Incremental Sort")
                and fed_by_product_rows(node)
                and rows_sorted(node) > edge_rows
            ):
                problems.append(
                    f"{node['Node Type']} of {rows_sorted(node)} {PRODUCT_TABLE} rows,"
                    f" the edges hold {edge_rows}"
                )
    # Each raw edge query finds the providers with one index probe per provider (plus
    # the probe that finds no more), each reading at most one row; two edges per call.
    allowed = edge_rows + 2 * (providers + 1)
    if rows_read > allowed:
        problems.append(f"{rows_read} rows read from {PRODUCT_TABLE}, the edges hold {edge_rows}")
    return problems


def window_edges(db: ClonedDatabase, since: object, until: object) -> int:
    """Rows in the raw edges of [since, until), split as the functions split it."""
    return db.execute(
        "select count(*) from ai_training_examples as raw_rows,"
        " ai_latency_window_bounds(%s, %s,"
        "  (select max(rolled_up_until) from ai_latency_hourly_histogram),"
        "  (select max(rolled_up_until) from ai_latency_daily_histogram)) as bounds"
        " where raw_rows.selected_provider is not null and ("
        "  (raw_rows.created_at >= %s and raw_rows.created_at < bounds.hours_from)"
        "  or (raw_rows.created_at >= bounds.hours_to and raw_rows.created_at < %s))",
        (since, until, since, until),
    )[0][0]


def problems_by_call(
    db: ClonedDatabase, settings: tuple[str, ...] = ()
) -> dict[tuple[str, str], list[str]]:
    db.execute(f"vacuum analyze {PRODUCT_TABLE}")
    providers = db.execute(
        f"select count(distinct selected_provider) from {PRODUCT_TABLE}"
        " where selected_provider is not null"
    )[0][0]
    until = db.execute("select now()")[0][0]
    found = {}
    for window in WINDOWS:
        since = db.execute("select %s::timestamptz - %s::interval", (until, window))[0][0]
        edge_rows = window_edges(db, since, until)
        for function in FUNCTIONS:
            plans = nested_plans(db, f"select * from {function}(%s, %s)", (since, until), settings)
            assert any(reads_product_table(plan) for plan in plans), (function, window)
            found[(function, window)] = plan_problems(plans, edge_rows, providers)
    return found


@pytest.mark.xdist_group("rolled_up")
def test_the_latency_functions_read_only_the_window_edges(rolled_up_db: ClonedDatabase) -> None:
    none_found = {(function, window): [] for window in WINDOWS for function in FUNCTIONS}
    assert problems_by_call(rolled_up_db) == none_found
    # The plan the planner picks on some samples of the table's statistics: the
    # edges' rows grouped by a sort (CI saw it on 2026-12-03). It reads no more.
    assert problems_by_call(rolled_up_db, ("set enable_hashagg = off",)) == none_found


@pytest.mark.xdist_group("rolled_up")
def test_the_check_catches_a_staging_view_the_planner_cannot_pull_up(
    rolled_up_db: ClonedDatabase,
) -> None:
    rolled_up_db.execute(CTE_SHAPED_STAGING_VIEW)
    found = problems_by_call(rolled_up_db)
    # Every call sorts the product table (the provider probes) and reads all of it.
    for call, problems in found.items():
        assert any(problem.startswith("Sort of") for problem in problems), call
        assert any("rows read from" in problem for problem in problems), call
