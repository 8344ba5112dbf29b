"""What the HTML report shows, read from the database for one environment and window:
gate history (real runs only), daily latency percentiles from the rollups, canary
decisions and the canary's share of traffic over time, flag changes and drills.

Reads only small tables and the rollups (the latency functions, one call per day),
never the raw telemetry table; formatters/html.py draws it. What it reads grows with
the window's days and a bounded number of named things (the newest runs, the newest
failed runs, decisions, changes, drills; counted beyond that), not with how many runs
the window holds: CI makes hundreds a day.
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
from ai_gate.rollout.arms import resolve_arms
from ai_gate.rollout.dossier import change_links
from ai_gate.routing.change_log import HistoryEntry, change_history
from ai_gate.routing.configuration import ProviderConfig, effective_configuration
from ai_gate.routing.traffic import traffic_shares

# What the report names one by one; beyond these it counts (docs/report.md).
NAMED_RUNS = 50  # the newest judged runs of the window
NAMED_FAILED_RUNS = 50  # and the newest failed ones beyond them
NAMED_DECISIONS = 100
DECISION_MARKS = 500  # the newest decisions drawn on the canary chart
NAMED_CHANGES = 100
NAMED_DRILLS = 50


@dataclass
class HtmlReportData:
    database: str
    environment: str
    since: datetime
    until: datetime
    generated_at: datetime
    version: str
    canary: str | None  # None: the environment has no single canary
    # every gate of the named runs (the newest, and the newest failed), oldest run first
    gates: list[verdicts.GateHistoryRow] = field(default_factory=list)
    # judged real runs in the window, and how many of them failed
    run_count: int = 0
    failed_run_count: int = 0
    # per gate and UTC day: runs, passed, failed, inconclusive, skipped, the observed
    # value's median, lowest and highest, and the threshold of the day's last run
    gate_days: list[dict[str, object]] = field(default_factory=list)
    # per day and provider: day, provider, requests, p50_ms, p95_ms, p99_ms
    latency: list[dict[str, object]] = field(default_factory=list)
    max_p95_latency_ms: float | None = None
    # per day and provider: day, provider, generations, cost_generations,
    # unknown_cost_generations, cost_usd, mean_cost_usd (ai_usage_by_provider)
    cost_days: list[dict[str, object]] = field(default_factory=list)
    # per named run with a known cost, oldest first: run_id, started_at, mean_cost_usd,
    # cost_per_pass_usd, costed (samples with a known cost)
    run_costs: list[dict[str, object]] = field(default_factory=list)
    decisions: list[dict[str, object]] = field(default_factory=list)  # the newest, newest first
    decision_count: int = 0
    # (decided_at, decision) of the newest DECISION_MARKS decisions, for the chart
    decision_marks: list[tuple[datetime, str]] = field(default_factory=list)
    # (changed_at, canary share of traffic), starting with the share at `since`
    traffic_share: list[tuple[datetime, float]] = field(default_factory=list)
    changes: list[HistoryEntry] = field(default_factory=list)  # the newest
    change_count: int = 0
    # change_id -> (the decision in force, the last drill before it): ai_release_dossier
    change_links: dict[int, tuple[int | None, str | None]] = field(default_factory=dict)
    drills: list[dict[str, object]] = field(default_factory=list)  # the newest
    drill_count: int = 0
    # per named run with repeated cases, oldest first: run_id, started_at,
    # repeated_cases, flaky_cases, flake_rate, flaky (the flaky cases' names)
    flakiness: list[dict[str, object]] = field(default_factory=list)
    # per UTC day with repeated cases: runs, repeated_cases, flaky_cases, flake_rate
    flake_days: list[dict[str, object]] = field(default_factory=list)


# The first hour with telemetry: the latency chart asks for no day before it (one
# latency call per day; a window of years would otherwise make thousands). The hourly
# rollup knows it; only while it is still empty (a database whose rollups were built
# before any telemetry arrived) is the raw table asked.
# The named runs' costs (v2 of the summary, read for those runs only).
RUN_COSTS_SQL = """
select
    runs.run_id,
    runs.started_at,
    max(summary.value) filter (where summary.metric = 'mean_cost_usd') as mean_cost_usd,
    max(summary.value) filter (where summary.metric = 'cost_per_pass_usd')
        as cost_per_pass_usd,
    max(summary.n) filter (where summary.metric = 'mean_cost_usd') as costed
from {runs} as runs
inner join {summary} as summary
    on summary.run_id = runs.run_id
where runs.run_id = any(%(named)s)
group by runs.run_id, runs.started_at
having max(summary.n) filter (where summary.metric = 'mean_cost_usd') > 0
order by runs.started_at, runs.run_id
"""

FIRST_TELEMETRY_SQL = """
select coalesce(
    (select min(hour_start) from {hourly}),
    (select min(created_at) from {raw} where created_at >= %(since)s)
) as first_hour
"""


def read_html_report(
    database: Database,
    environment: str,
    since: timedelta,
    canary: str | None = None,
    configs: list[ProviderConfig] | None = None,
) -> HtmlReportData:
    """The report's data; `canary` defaults to the environment's seeded canary (none
    when it has no single one: the report then draws no canary). `configs`: the routing
    configuration when the caller read it already (daily: in the canary's snapshot)."""
    current = configs if configs is not None else effective_configuration(database)
    try:
        canary = resolve_arms(current, environment, canary).canary
    except InputRejected:
        if canary is not None or environment not in {c.environment for c in current}:
            raise
        canary = None
    until = datetime.now(UTC)
    data = HtmlReportData(
        database=database.describe(),
        environment=environment,
        since=until - since,
        until=until,
        generated_at=until,
        version=__version__,
        canary=canary,
    )
    params = {
        "environment": environment,
        "canary": canary,
        "since": data.since,
        "until": until,
        "named_runs": NAMED_RUNS,
        "named_failed_runs": NAMED_FAILED_RUNS,
    }
    relations = {
        name: database.relation(name)
        for name in (
            "ai_eval_runs",
            "ai_eval_gate_results",
            "ai_canary_decisions",
            "ai_rollback_drills",
            "ai_canary_guardrails",
            "ai_latency_hourly_histogram",
            "stg_product__ai_training_examples",
        )
    }
    with database.connect() as conn, conn.cursor(row_factory=dict_row) as cur:
        runs = relations["ai_eval_runs"]
        cur.execute(sql.SQL(RUN_COUNTS_SQL).format(runs=runs), params)
        counts = cur.fetchone() or {}
        data.run_count = int(counts.get("runs") or 0)
        data.failed_run_count = int(counts.get("failed") or 0)
        named = [row["run_id"] for row in counts.get("named") or []]
        cur.execute(
            sql.SQL(GATE_DAYS_SQL).format(runs=runs, gates=relations["ai_eval_gate_results"]),
            params,
        )
        data.gate_days = cur.fetchall()
        cur.execute(sql.SQL(FLAKINESS_SQL).format(runs=runs), {**params, "named": named})
        data.flakiness = cur.fetchall()
        cur.execute(sql.SQL(FLAKE_DAYS_SQL).format(runs=runs), params)
        data.flake_days = cur.fetchall()
        cur.execute(
            sql.SQL("select max_p95_latency_ms from {} where environment = %(environment)s").format(
                relations["ai_canary_guardrails"]
            ),
            params,
        )
        guardrail = cur.fetchone()
        data.max_p95_latency_ms = float(guardrail["max_p95_latency_ms"]) if guardrail else None
        cur.execute(
            FIRST_TELEMETRY_SQL.format(
                hourly=relations["ai_latency_hourly_histogram"].as_string(conn),
                raw=relations["stg_product__ai_training_examples"].as_string(conn),
            ),
            params,
        )
        first = cur.fetchone()["first_hour"]
        data.latency = _daily_latency(cur, database, data.since, first or until, until)
        data.cost_days = _daily_cost(cur, database, data.since, first or until, until)
        cur.execute(
            sql.SQL(RUN_COSTS_SQL).format(
                runs=runs, summary=database.relation("ai_eval_run_summary_v2")
            ),
            {**params, "named": named},
        )
        data.run_costs = cur.fetchall()
        _read_decisions(cur, relations["ai_canary_decisions"], params, data)
        _read_drills(cur, relations["ai_rollback_drills"], params, data)
    data.gates = verdicts.gate_history(database, environment, since=data.since, run_ids=named)
    newest_first = change_history(database, environment, limit=100_000)
    in_window = [entry for entry in newest_first if entry.changed_at >= data.since]
    data.changes, data.change_count = in_window[:NAMED_CHANGES], len(in_window)
    data.change_links = change_links(database, environment, data.since)
    if canary is not None:
        data.traffic_share = _canary_share(
            [c for c in current if c.environment == environment],
            newest_first[::-1],
            canary,
            data.since,
            until,
        )
    return data


def _read_decisions(
    cur: psycopg.Cursor, decisions: sql.Composable, params: dict, data: HtmlReportData
) -> None:
    """The newest canary decisions of the window (their deciding rules), how many
    there are, and the newest marks for the chart."""
    cur.execute(
        sql.SQL(
            "select count(*) as decisions from {} where environment = %(environment)s"
            " and canary = %(canary)s and decided_at >= %(since)s"
        ).format(decisions),
        params,
    )
    data.decision_count = int(cur.fetchone()["decisions"])
    cur.execute(
        sql.SQL(
            "select decided_at, decision from {} where environment = %(environment)s"
            " and canary = %(canary)s and decided_at >= %(since)s"
            " order by decision_id desc limit %(marks)s"
        ).format(decisions),
        {**params, "marks": DECISION_MARKS},
    )
    data.decision_marks = [(row["decided_at"], row["decision"]) for row in cur.fetchall()]
    cur.execute(
        sql.SQL(
            "select decision_id, decided_at, decision, is_synthetic, rules, canary,"
            " coalesce(evidence_eval_runs, '[]') as evidence_eval_runs"
            " from {} where environment = %(environment)s and canary = %(canary)s"
            " and decided_at >= %(since)s order by decision_id desc limit %(named)s"
        ).format(decisions),
        {**params, "named": NAMED_DECISIONS},
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


def _read_drills(
    cur: psycopg.Cursor, drills: sql.Composable, params: dict, data: HtmlReportData
) -> None:
    where = sql.SQL(" from {} where environment = %(environment)s and started_at >= %(since)s")
    cur.execute(sql.SQL("select count(*) as drills") + where.format(drills), params)
    data.drill_count = int(cur.fetchone()["drills"])
    cur.execute(
        sql.SQL("select drill_id::text, started_at, finished_at, succeeded, run_by, error")
        + where.format(drills)
        + sql.SQL(" order by started_at desc limit %(named)s"),
        {**params, "named": NAMED_DRILLS},
    )
    data.drills = cur.fetchall()


# The window's judged real runs: how many, how many failed, and the named ones (the
# newest NAMED_RUNS, then the newest NAMED_FAILED_RUNS failed ones beyond them).
RUN_COUNTS_SQL = """
with window_runs as (
    select run_id, started_at, status
    from {runs}
    where environment = %(environment)s and not is_synthetic
        and status in ('passed', 'failed', 'inconclusive')
        and started_at >= %(since)s
),

newest as (
    select run_id, started_at from window_runs
    order by started_at desc, run_id desc limit %(named_runs)s
),

newest_failed as (
    select run_id, started_at from window_runs
    where status = 'failed' and run_id not in (select run_id from newest)
    order by started_at desc, run_id desc limit %(named_failed_runs)s
)

select
    (select count(*) from window_runs) as runs,
    (select count(*) from window_runs where status = 'failed') as failed,
    (
        select coalesce(jsonb_agg(jsonb_build_object('run_id', run_id)), '[]'::jsonb)
        from (select * from newest union all select * from newest_failed) as named
    ) as named
"""

# Each gate of the window's judged real runs, per UTC day: from each run's stored
# verdict (runs judged before verdicts were stored, from the gate view).
GATE_DAYS_SQL = """
with window_runs as (
    select run_id, started_at, verdict
    from {runs}
    where environment = %(environment)s and not is_synthetic
        and status in ('passed', 'failed', 'inconclusive')
        and started_at >= %(since)s
),

gate_rows as (
    select
        window_runs.started_at,
        gates.value ->> 'gate' as gate,
        gates.value ->> 'status' as status,
        (gates.value ->> 'observed')::double precision as observed,
        (gates.value ->> 'threshold')::double precision as threshold
    from window_runs
    cross join lateral jsonb_array_elements(window_runs.verdict -> 'gates') as gates (value)
    where window_runs.verdict is not null
    union all
    select
        window_runs.started_at,
        gate_results.gate,
        gate_results.status,
        gate_results.observed,
        gate_results.threshold::double precision
    from window_runs
    inner join {gates} as gate_results
        on window_runs.run_id = gate_results.run_id
    where window_runs.verdict is null
)

select
    date_trunc('day', started_at at time zone 'UTC') at time zone 'UTC' as day,
    gate,
    count(*) as runs,
    count(*) filter (where status = 'passed') as passed,
    count(*) filter (where status = 'failed') as failed,
    count(*) filter (where status = 'inconclusive') as inconclusive,
    count(*) filter (where status = 'skipped') as skipped,
    percentile_cont(0.5) within group (order by observed) as observed_median,
    min(observed) as observed_low,
    max(observed) as observed_high,
    (array_agg(threshold order by started_at desc))[1] as threshold
from gate_rows
group by 1, gate
order by gate, day
"""


# The flake rate of each named run with repeated cases: from its verdict.
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
    and runs.run_id = any(%(named)s)
    and jsonb_typeof(runs.verdict -> 'flakiness') = 'array'
group by runs.run_id, runs.started_at, runs.verdict
order by runs.started_at, runs.run_id
"""

# The flake rate per UTC day over every judged real run with repeated cases.
FLAKE_DAYS_SQL = """
select
    date_trunc('day', runs.started_at at time zone 'UTC') at time zone 'UTC' as day,
    count(distinct runs.run_id) as runs,
    count(*) as repeated_cases,
    count(*) filter (where (cases.value ->> 'flaky')::boolean) as flaky_cases,
    count(*) filter (where (cases.value ->> 'flaky')::boolean)::double precision
        / count(*) as flake_rate
from {runs} as runs
cross join lateral jsonb_array_elements(runs.verdict -> 'flakiness') as cases (value)
where runs.environment = %(environment)s and not runs.is_synthetic
    and runs.status in ('passed', 'failed', 'inconclusive')
    and runs.started_at >= %(since)s
    and jsonb_typeof(runs.verdict -> 'flakiness') = 'array'
group by 1
order by 1
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


def _daily_cost(
    cur: psycopg.Cursor, database: Database, since: datetime, first: datetime, until: datetime
) -> list[dict[str, object]]:
    """Generations and their cost per provider per UTC day from the first hour with
    telemetry: ai_usage_by_provider once per day, all days in one statement."""
    day = max(since, first).replace(hour=0, minute=0, second=0, microsecond=0)
    if day >= until:
        return []
    cur.execute(
        sql.SQL(
            "select days.day, usage.selected_provider as provider, usage.generations,"
            " usage.cost_generations, usage.unknown_cost_generations, usage.cost_usd,"
            " usage.mean_cost_usd"
            " from generate_series(%(first_day)s::timestamptz, %(until)s::timestamptz"
            " - interval '1 microsecond', interval '24 hours') as days (day)"
            " cross join lateral {}(greatest(days.day, %(since)s::timestamptz),"
            " least(days.day + interval '24 hours', %(until)s::timestamptz)) as usage"
            " where usage.selected_provider is not null"
            " order by days.day, usage.selected_provider"
        ).format(database.relation("ai_usage_by_provider")),
        {"first_day": day, "since": since, "until": until},
    )
    return list(cur.fetchall())


def _canary_share(
    current: list[ProviderConfig],
    history: list[HistoryEntry],
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
        shares = traffic_shares(state.values())
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
