"""What a canary decision reads of the routing telemetry (ai_routing_telemetry: the
product's generations plus synthetic ones), per arm: the rows it served and their
latencies (by selected_provider: counts, the displayed quantiles and the order
statistics the latency rules ask for, in one sort), their costs (how many are known,
the median and mean, the order statistics the cost rule asks for, in a second sort),
and the rows routed to it and how many fell back (by requested_provider). The
product's telemetry table has no environment column: a product database serves one
environment, so its rows count for the one evaluated."""

from __future__ import annotations

from datetime import datetime

import psycopg
from psycopg import sql

from ai_gate.database import Database, fetch_one
from ai_gate.rollout.rule_types import Policy
from ai_gate.rollout.rules import latency_ranks, median_ranks

QUANTILES = (0.5, 0.9, 0.95, 0.99)


_TELEMETRY_SCOPE = (
    " and (%(synthetic)s or not is_synthetic)"
    " and (environment is null or environment = %(environment)s)"
)


def telemetry_arm(
    conn: psycopg.Connection,
    database: Database,
    provider: str,
    start: datetime,
    end: datetime,
    scope: dict[str, object],
    policy: Policy,
) -> dict[str, object]:
    """One arm's telemetry: counts first, then, in one sort of its latencies, the
    displayed quantiles and the order statistics at the ranks the rules ask for (which
    depend on how many latencies there are)."""
    params = {"provider": provider, "start": start, "end": end, **scope}
    telemetry = sql.SQL(
        " from {} where {} = %(provider)s and created_at >= %(start)s and created_at < %(end)s"
        + _TELEMETRY_SCOPE
    )
    relation = database.relation("ai_routing_telemetry")
    served = fetch_one(
        conn,
        sql.SQL(
            "select count(*) as served_rows,"
            " count(*) filter (where is_synthetic) as synthetic_rows,"
            " count(latency_ms) as latency_samples,"
            " count(*) filter (where latency_ms > %(ceiling)s) as latency_above_p95_ceiling,"
            " count(cost_usd) as cost_samples, avg(cost_usd) as cost_mean,"
            " count(*) filter (where cost_source = 'priced') as priced_costs"
        )
        + telemetry.format(relation, sql.Identifier("selected_provider")),
        {**params, "ceiling": policy.max_p95_latency_ms},
    )
    ranks = latency_ranks(policy, int(served["latency_samples"])).all()
    samples = int(served["latency_samples"])
    # percentile_disc at (r - 0.5) / t is the r-th smallest value exactly: the first
    # whose position r / t reaches the fraction
    quantiles = (
        fetch_one(
            conn,
            sql.SQL(
                "select percentile_cont(%(quantiles)s::float8[]) within group (order by latency_ms)"
                " as quantiles,"
                " percentile_disc(%(fractions)s::float8[]) within group (order by latency_ms)"
                " as order_statistics"
            )
            + telemetry.format(relation, sql.Identifier("selected_provider")),
            {
                **params,
                "quantiles": list(QUANTILES),
                "fractions": [(rank - 0.5) / samples for rank in ranks],
            },
        )
        if samples
        else {}
    )
    routed_counts = routed(conn, database, provider, start, end, scope)
    order_statistics = dict(zip(ranks, quantiles.get("order_statistics") or [], strict=False))
    costs = int(served["cost_samples"])
    cost_ranks = median_ranks(policy, costs).all() if policy.max_cost_ratio is not None else []
    # the costs' median and the order statistics the cost rule asks for, in one sort
    cost = (
        fetch_one(
            conn,
            sql.SQL(
                "select percentile_cont(0.5) within group (order by cost_usd) as cost_p50,"
                " percentile_disc(%(fractions)s::float8[]) within group (order by cost_usd)"
                " as cost_order_statistics"
            )
            + telemetry.format(relation, sql.Identifier("selected_provider"))
            + sql.SQL(" and cost_usd is not null"),
            {**params, "fractions": [(rank - 0.5) / costs for rank in cost_ranks]},
        )
        if costs
        else {}
    )
    return {
        **served,
        **quantiles,
        **routed_counts,
        "order_statistics": order_statistics,
        "cost_p50": cost.get("cost_p50"),
        "cost_order_statistics": dict(
            zip(cost_ranks, cost.get("cost_order_statistics") or [], strict=False)
        ),
    }


def routed(
    conn: psycopg.Connection,
    database: Database,
    provider: str,
    start: datetime,
    end: datetime,
    scope: dict[str, object],
) -> dict[str, object]:
    """Rows routed to a provider (it was asked) and how many of them fell back."""
    return fetch_one(
        conn,
        sql.SQL(
            "select count(*) as routed_rows, count(fallback_used) as fallback_known,"
            " count(*) filter (where fallback_used) as fallbacks"
            " from {} where requested_provider = %(provider)s"
            " and created_at >= %(start)s and created_at < %(end)s" + _TELEMETRY_SCOPE
        ).format(database.relation("ai_routing_telemetry")),
        {"provider": provider, "start": start, "end": end, **scope},
    )
