"""Each rollout's time to go, under its stored guardrails beside proposed ones: the
rollout's first step (from its start to the next flag change, else to its last stored
decision) looked at every hour on the data as it is now, until the rules say `go`.
The rollouts are those of the window's stored decisions (made by the rules as they
are, on no synthetic evidence), each with the policy, expected share and eval run its
first decision stored. Read-only, on the caller's connection."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from ai_gate.database import Database
from ai_gate.jsonable import JsonFields
from ai_gate.rollout.decision_replay import policy_of, read_arm, sample_ratio_rule
from ai_gate.rollout.rule_types import Policy
from ai_gate.rollout.rules import METHOD, judge
from ai_gate.routing.change_log import CHANGE_LOG

LOOK = timedelta(hours=1)
MAX_LOOKS = 14 * 24  # a rollout step of 14 days, as the calibration models it


@dataclass(frozen=True)
class RolloutReplay(JsonFields):
    canary: str
    baseline: str
    started_at: datetime
    looked_until: datetime  # the end of its first step (or its last decision)
    looks: int
    stored_go_hour: int | None  # the first hourly look that says go (None: none did)
    stored_go_canary_rows: int | None
    proposed_go_hour: int | None
    proposed_go_canary_rows: int | None


def replay_rollouts(
    conn: psycopg.Connection,
    database: Database,
    environment: str,
    start: datetime,
    proposed_guardrails: dict[str, object],
) -> list[RolloutReplay]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            sql.SQL(
                "select distinct on (window_start, canary, baseline) window_start, canary,"
                " baseline, eval_run_id, rules, guardrails, rollback_triggers,"
                " max(window_end) over (partition by window_start, canary, baseline)"
                " as last_end,"
                " (select min(changed_at) from {changes} as changes"
                " where changes.environment = decisions.environment"
                " and changes.changed_at > decisions.window_start) as next_change"
                " from {decisions} as decisions where environment = %s and decided_at >= %s"
                " and not coalesce(is_synthetic, false) and method = %s"
                " order by window_start, canary, baseline, decision_id"
            ).format(
                changes=database.relation(CHANGE_LOG),
                decisions=database.relation("ai_canary_decisions"),
            ),
            (environment, start, METHOD),
        )
        rollouts = cur.fetchall()
    return [_replay(conn, database, environment, row, proposed_guardrails) for row in rollouts]


def _replay(
    conn: psycopg.Connection,
    database: Database,
    environment: str,
    row: dict[str, object],
    proposed_guardrails: dict[str, object],
) -> RolloutReplay:
    started: datetime = row["window_start"]  # type: ignore[assignment]
    until: datetime = row["next_change"] or row["last_end"]  # type: ignore[assignment]
    looks = min(MAX_LOOKS, max(1, math.ceil((until - started) / LOOK)))
    srm = sample_ratio_rule(row)
    expected_share = srm["threshold"] if srm else None
    stored, proposed = policy_of(row), policy_of(row, proposed_guardrails)
    found = {
        name: _first_go(conn, database, environment, row, policy, expected_share, looks, until)
        for name, policy in (("stored", stored), ("proposed", proposed))
    }
    return RolloutReplay(
        canary=str(row["canary"]),
        baseline=str(row["baseline"]),
        started_at=started,
        looked_until=until,
        looks=looks,
        stored_go_hour=found["stored"][0],
        stored_go_canary_rows=found["stored"][1],
        proposed_go_hour=found["proposed"][0],
        proposed_go_canary_rows=found["proposed"][1],
    )


def _first_go(
    conn: psycopg.Connection,
    database: Database,
    environment: str,
    row: dict[str, object],
    policy: Policy,
    expected_share: float | None,
    looks: int,
    until: datetime,
) -> tuple[int | None, int | None]:
    """(the hour of the first look that says go, the canary's rows then)."""
    started: datetime = row["window_start"]  # type: ignore[assignment]
    canary, baseline = str(row["canary"]), str(row["baseline"])
    for hour in range(1, looks + 1):
        window = {**row, "window_end": min(started + hour * LOOK, until)}
        arms = {
            provider: read_arm(conn, database, environment, window, policy, provider)
            for provider in (canary, baseline)
        }
        outcome, _ = judge(arms[canary].counts(), arms[baseline].counts(), policy, expected_share)
        if outcome == "go":
            return hour, arms[canary].served_rows
    return None, None
