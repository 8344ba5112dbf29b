"""What the HTML report shows, read from the database for one environment and window:
gate history (real runs only), daily latency percentiles from the rollups, canary
decisions and the canary's share of traffic over time, flag changes and drills.

Reads only small tables and the rollups (the latency functions, one call per day),
never the raw telemetry table; formatters/html.py draws it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from ai_gate import __version__
from ai_gate.database import Database
from ai_gate.errors import InputRejected
from ai_gate.evals import verdicts
from ai_gate.routing import flags as routing


@dataclass
class ReportData:
    database: str
    environment: str
    since: datetime
    until: datetime
    generated_at: datetime
    version: str
    canary: str | None  # None: the environment has no single canary
    # every gate of every judged run in the window, oldest run first
    gates: list[verdicts.GateHistoryRow] = field(default_factory=list)
    # per day and provider: day, provider, requests, p50_ms, p95_ms, p99_ms
    latency: list[dict[str, object]] = field(default_factory=list)
    max_p95_latency_ms: float | None = None
    decisions: list[dict[str, object]] = field(default_factory=list)
    # (changed_at, canary share of traffic), starting with the share at `since`
    traffic_share: list[tuple[datetime, float]] = field(default_factory=list)
    changes: list[routing.HistoryEntry] = field(default_factory=list)
    drills: list[dict[str, object]] = field(default_factory=list)
    # per judged run with repeated cases, oldest first: run_id, started_at,
    # repeated_cases, flaky_cases, flake_rate, flaky (the flaky cases' names)
    flakiness: list[dict[str, object]] = field(default_factory=list)


# The first hour with telemetry: the latency chart asks for no day before it (one
# latency call per day; a window of years would otherwise make thousands). The hourly
# rollup knows it; only while it is still empty (a database whose rollups were built
# before any telemetry arrived) is the raw table asked.
FIRST_TELEMETRY_SQL = """
select coalesce(
    (select min(hour_start) from {hourly}),
    (select min(created_at) from {raw} where created_at >= %(since)s)
) as first_hour
"""


def read_report(
    database: Database, environment: str, since: timedelta, canary: str | None = None
) -> ReportData:
    """The report's data; `canary` defaults to the environment's seeded canary (none
    when it has no single one: the report then draws no canary)."""
    current = routing.effective_configuration(database)
    try:
        canary = routing.resolve_arms(current, environment, canary).canary
    except InputRejected:
        if canary is not None or environment not in {c.environment for c in current}:
            raise
        canary = None
    until = datetime.now(UTC)
    data = ReportData(
        database=database.describe(),
        environment=environment,
        since=until - since,
        until=until,
        generated_at=until,
        version=__version__,
        canary=canary,
    )
    data.gates = verdicts.gate_history(database, environment, since=data.since)
    params = {"environment": environment, "canary": canary, "since": data.since, "until": until}
    with database.connect() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            FLAKINESS_SQL.format(runs=database.relation("ai_eval_runs").as_string(conn)), params
        )
        data.flakiness = cur.fetchall()
        cur.execute(
            "select max_p95_latency_ms from {} where environment = %(environment)s".format(
                database.relation("ai_canary_guardrails").as_string(conn)
            ),
            params,
        )
        guardrail = cur.fetchone()
        data.max_p95_latency_ms = float(guardrail["max_p95_latency_ms"]) if guardrail else None
        cur.execute(
            FIRST_TELEMETRY_SQL.format(
                hourly=database.relation("ai_latency_hourly_histogram").as_string(conn),
                raw=database.relation("stg_product__ai_training_examples").as_string(conn),
            ),
            params,
        )
        first = cur.fetchone()["first_hour"]
        data.latency = _daily_latency(cur, database, data.since, first or until, until)
        cur.execute(
            "select decision_id, decided_at, decision, is_synthetic, rules, canary"
            " from {} where environment = %(environment)s and canary = %(canary)s"
            " and decided_at >= %(since)s"
            " order by decision_id".format(
                database.relation("ai_canary_decisions").as_string(conn)
            ),
            params,
        )
        for row in cur.fetchall():
            rules = row.pop("rules") or []
            deciding = [r["name"] for r in rules if r.get("status") == "breached"]
            srm = next((r for r in rules if r.get("kind") == "srm"), None)
            data.decisions.append(
                {
                    **row,
                    "deciding": ", ".join(deciding),
                    "srm": srm.get("status") if srm else None,
                    "srm_observed": srm.get("observed") if srm else None,
                }
            )
        cur.execute(
            "select started_at, finished_at, succeeded, run_by, error from {}"
            " where environment = %(environment)s and started_at >= %(since)s"
            " order by started_at".format(database.relation("ai_rollback_drills").as_string(conn)),
            params,
        )
        data.drills = cur.fetchall()
    newest_first = routing.change_history(database, environment, limit=100_000)
    data.changes = [entry for entry in newest_first if entry.changed_at >= data.since]
    if canary is not None:
        data.traffic_share = _canary_share(
            [c for c in current if c.environment == environment],
            newest_first[::-1],
            canary,
            data.since,
            until,
        )
    return data


# The flake rate of every judged, real run with repeated cases: from its verdict.
FLAKINESS_SQL = """
select
    runs.run_id,
    runs.started_at,
    jsonb_array_length(runs.verdict -> 'flakiness') as repeated_cases,
    count(cases.value) filter (where (cases.value ->> 'flaky')::boolean) as flaky_cases,
    count(cases.value) filter (where (cases.value ->> 'flaky')::boolean)::double precision
        / jsonb_array_length(runs.verdict -> 'flakiness') as flake_rate,
    coalesce(
        array_agg(
            (cases.value ->> 'case_id') || ' (' || coalesce(cases.value ->> 'provider', '-') || ')'
            order by cases.value ->> 'case_id', cases.value ->> 'provider'
        ) filter (where (cases.value ->> 'flaky')::boolean),
        '{{}}'
    ) as flaky
from {runs} as runs
cross join lateral jsonb_array_elements(runs.verdict -> 'flakiness') as cases (value)
where runs.environment = %(environment)s and not runs.is_synthetic
    and runs.status in ('passed', 'failed', 'inconclusive')
    and runs.started_at >= %(since)s
    and jsonb_typeof(runs.verdict -> 'flakiness') = 'array'
group by runs.run_id, runs.started_at, runs.verdict
order by runs.started_at, runs.run_id
"""


def _daily_latency(
    cur: psycopg.Cursor, database: Database, since: datetime, first: datetime, until: datetime
) -> list[dict[str, object]]:
    """p50/p95/p99 per provider per UTC day from the first hour with telemetry: the
    rollup-backed function once per day, all days in one statement."""
    day = max(since, first).replace(hour=0, minute=0, second=0, microsecond=0)
    if day >= until:
        return []
    cur.execute(
        sql.SQL(
            "select days.day, latency.selected_provider as provider, latency.requests,"
            " latency.p50_ms, latency.p95_ms, latency.p99_ms"
            " from generate_series(%(first_day)s::timestamptz, %(until)s::timestamptz"
            " - interval '1 microsecond', interval '24 hours') as days (day)"
            " cross join lateral {}(greatest(days.day, %(since)s::timestamptz),"
            " least(days.day + interval '24 hours', %(until)s::timestamptz)) as latency"
            " where latency.selected_provider is not null"
            " order by days.day, latency.selected_provider"
        ).format(database.relation("ai_latency_percentiles")),
        {"first_day": day, "since": since, "until": until},
    )
    return list(cur.fetchall())


def _canary_share(
    current: list[routing.ProviderConfig],
    history: list[routing.HistoryEntry],
    canary: str,
    since: datetime,
    until: datetime,
) -> list[tuple[datetime, float]]:
    """The canary's share of the environment's traffic over the window, as a step line:
    the flags now, walked back over the change log (oldest first in `history`) to
    before its first change, then forward, one point per change."""
    state = {c.provider: c for c in current}
    for entry in reversed(history):
        if entry.provider in state and entry.before:
            state[entry.provider] = replace(
                state[entry.provider],
                enabled=bool(entry.before.get("enabled")),
                weight=int(entry.before.get("weight") or 0),
            )

    def share() -> float:
        shares = routing.traffic_shares(state.values())
        return next((v for (_, provider), v in shares.items() if provider == canary), 0.0)

    points = [(since, share())]
    for entry in history:
        if entry.provider in state:
            state[entry.provider] = replace(
                state[entry.provider],
                enabled=bool(entry.after["enabled"]),
                weight=int(entry.after["weight"]),
            )
        if entry.changed_at < since:
            points = [(since, share())]
        else:
            points.append((entry.changed_at, share()))
    points.append((until, points[-1][1]))
    return points
