"""Canary decisions: judge a decision's evidence (rollout/evidence.py) by the rules
(rollout/rules.py, ADR 0004), store it with everything it read, and read stored ones
back.

The rules are one-sided tests that hold over every look of a rollout: `rollback` when a
trigger is shown, `hold` when a guardrail breach or a sample-ratio mismatch is shown,
`go` only when every rule is shown inside its margin, else `inconclusive`. A decision
that used synthetic rows is marked synthetic, and neither `step` nor a rollback acts on
it; each decision is stored with its look number and evidence, so it can be replayed."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta

import psycopg
from psycopg import sql

from ai_gate.actor import default_actor
from ai_gate.database import Database, fetch_one
from ai_gate.errors import EXIT_GATE_FAILED, EXIT_INCONCLUSIVE, EXIT_OK
from ai_gate.jsonable import JsonFields
from ai_gate.rollout.arms import ArmNames, Arms
from ai_gate.rollout.evidence import Arm, Evidence, gather
from ai_gate.rollout.rule_types import Rule
from ai_gate.rollout.rules import METHOD, judge

DECISION_EXIT_CODES = {
    "go": EXIT_OK,
    "hold": EXIT_GATE_FAILED,
    "rollback": EXIT_GATE_FAILED,
    "inconclusive": EXIT_INCONCLUSIVE,
}


@dataclass(frozen=True)
class Decision(JsonFields):
    JSON_PROPERTIES = ("is_synthetic",)

    decision_id: int
    decision: str
    environment: str
    canary: str
    baseline: str
    window_start: datetime | None
    window_end: datetime | None
    eval_run_id: str | None
    rules: list[Rule]
    arms: dict[str, Arm]
    synthetic_rows: int
    production_rows: int
    synthetic_eval_samples: int = 0
    include_synthetic: bool = False
    excluded_synthetic_rows: int = 0
    method: str = METHOD
    alpha: float | None = None
    look: int = 1
    step_start: datetime | None = None
    expected_canary_share: float | None = None
    # eval runs with samples of either arm in the window that are not canary evidence
    # (run type offline or scheduled): left out of the quality arms, named here
    ignored_eval_runs: list[dict[str, object]] = field(default_factory=list)
    # the canary-evidence runs the quality arms read (run, run type, samples of the arms)
    evidence_eval_runs: list[dict[str, object]] = field(default_factory=list)

    @property
    def is_synthetic(self) -> bool:
        """Synthetic evidence went into it: it may not move real traffic."""
        return self.synthetic_rows > 0 or self.synthetic_eval_samples > 0

    @property
    def exit_code(self) -> int:
        return DECISION_EXIT_CODES[self.decision]


def decision_on(evidence: Evidence, run_id: str | None, include_synthetic: bool) -> Decision:
    """The decision on the evidence (rules.judge), not yet stored (decision_id 0)."""
    arms = evidence.roles
    verdict, rules = judge(
        evidence.arms[arms.canary].counts(),
        evidence.arms[arms.baseline].counts(),
        evidence.policy,
        evidence.expected_share,
        evidence.step_rows,
    )
    # Synthetic rows are left out unless asked for; counted either way, so the output
    # can say so.
    return Decision(
        decision_id=0,
        decision=verdict,
        environment=arms.environment,
        canary=arms.canary,
        baseline=arms.baseline,
        window_start=evidence.start,
        window_end=evidence.end,
        eval_run_id=run_id,
        rules=rules,
        arms=evidence.arms,
        synthetic_rows=evidence.synthetic_rows if include_synthetic else 0,
        production_rows=evidence.production_rows,
        synthetic_eval_samples=evidence.synthetic_eval_samples if include_synthetic else 0,
        include_synthetic=include_synthetic,
        excluded_synthetic_rows=0 if include_synthetic else evidence.synthetic_rows,
        alpha=evidence.policy.alpha,
        look=evidence.look,
        step_start=evidence.step_start,
        expected_canary_share=evidence.expected_share,
        ignored_eval_runs=evidence.ignored_eval_runs,
        evidence_eval_runs=evidence.evidence_eval_runs,
    )


def _stored_columns(decision: Decision, evidence: Evidence, actor: str) -> dict[str, object]:
    """ai_canary_decisions' columns for a decision: the one mapping the INSERT uses."""
    return {
        "decided_by": actor,
        "environment": decision.environment,
        "canary": decision.canary,
        "baseline": decision.baseline,
        "window_start": decision.window_start,
        "window_end": decision.window_end,
        "eval_run_id": decision.eval_run_id,
        "decision": decision.decision,
        "rules": json.dumps([asdict(rule) for rule in decision.rules]),
        "arms": json.dumps({name: arm.as_json() for name, arm in decision.arms.items()}),
        "guardrails": json.dumps(evidence.guardrails),
        "rollback_triggers": json.dumps(evidence.triggers, default=float),
        "synthetic_rows": decision.synthetic_rows,
        "production_rows": decision.production_rows,
        "synthetic_eval_samples": decision.synthetic_eval_samples,
        "is_synthetic": decision.is_synthetic,
        "method": decision.method,
        "alpha": decision.alpha,
        "look": decision.look,
        "step_start": decision.step_start,
        "ignored_eval_runs": json.dumps(decision.ignored_eval_runs),
        "evidence_eval_runs": json.dumps(decision.evidence_eval_runs),
    }


def store(
    conn: psycopg.Connection, database: Database, decision: Decision, evidence: Evidence, actor: str
) -> Decision:
    """Insert the decision with its inputs; the stored decision, with its id."""
    columns = _stored_columns(decision, evidence, actor)
    with conn.transaction():
        row = conn.execute(
            sql.SQL("insert into {} ({}) values ({}) returning decision_id").format(
                database.relation("ai_canary_decisions"),
                sql.SQL(", ").join(map(sql.Identifier, columns)),
                sql.SQL(", ").join(map(sql.Placeholder, columns)),
            ),
            columns,
        ).fetchone()
    assert row is not None
    return replace(decision, decision_id=int(row[0]))


def evaluate(
    database: Database,
    names: ArmNames,
    since: timedelta | None = None,
    run_id: str | None = None,
    actor: str | None = None,
    include_synthetic: bool = False,
) -> tuple[Decision, Evidence]:
    """Gather the evidence (the arms resolved from the routing configuration it reads,
    once), judge it, store the decision with its inputs; return it with its evidence."""
    actor = actor or default_actor()
    with database.connect() as conn:
        # one snapshot for all the evidence (the first statement of the transaction)
        conn.execute("set transaction isolation level repeatable read")
        evidence = gather(conn, database, names, since, run_id, include_synthetic)
        decision = decision_on(evidence, run_id, include_synthetic)
        return store(conn, database, decision, evidence, actor), evidence


def read_latest_decision(
    conn: psycopg.Connection, database: Database, environment: str, canary: str
) -> dict | None:
    return (
        fetch_one(
            conn,
            sql.SQL(
                "select decision_id, decision, decided_at, is_synthetic from {}"
                " where environment = %s and canary = %s order by decision_id desc limit 1"
            ).format(database.relation("ai_canary_decisions")),
            (environment, canary),
        )
        or None
    )


def read_rollout_plan(conn: psycopg.Connection, database: Database, arms: Arms) -> list[int]:
    """The canary's plan in its environment: its share of traffic (percent) per step."""
    rows = conn.execute(
        sql.SQL(
            "select canary_percent from {} where environment = %s and canary = %s order by step"
        ).format(database.relation("ai_canary_rollout_plan")),
        (arms.environment, arms.canary),
    ).fetchall()
    return [int(row[0]) for row in rows]
