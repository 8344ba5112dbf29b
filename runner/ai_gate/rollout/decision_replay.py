"""Stored canary decisions re-derived under their stored policies, two ways:

1. from the evidence each stored: its arms' counts and order statistics, judged again
   by the rules (`rules.judge`) under its guardrail and trigger snapshots, with the
   expected share and the step's rows its sample-ratio rule recorded. Every rule's
   status, observed value, bounds and e-values, and the outcome, must come out as
   stored: one that does not is a discrepancy (the record does not follow from its own
   evidence: edited, or decided by other rules).
2. from the data: the arms' counts read again from the telemetry and the canary eval
   samples of the decision's window, as they are now. More rows than the decision read
   are rows that arrived after it (written late with a time inside its window): counted
   and named, never used. Fewer, or a different order statistic with the same count,
   is a discrepancy (rows the decision read are gone or changed).

Only decisions made by the rules as they are (`rules.METHOD`) are re-derived; one made
by earlier rules is listed with a note. Read-only, on the caller's connection
(replay.py's read-only snapshot).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from ai_gate.database import Database
from ai_gate.rollout.evidence import Arm, arm_from
from ai_gate.rollout.quality_arms import quality_arm
from ai_gate.rollout.rule_types import Policy, Rate
from ai_gate.rollout.rules import METHOD, judge
from ai_gate.rollout.telemetry_arms import telemetry_arm

# A rule's fields compared between the stored and the re-derived rule.
RULE_FIELDS = ("status", "observed", "threshold", "breach_bound", "go_bound", "go_margin")
# The counts compared between the stored evidence and the data now.
COUNTS = (
    "served_rows",
    "routed_rows",
    "latency_samples",
    "latency_above_p95_ceiling",
    "eval_samples",
)


# The guardrails a proposal may set (seed ai_canary_guardrails), each with what it
# must be: a share, a positive amount, a whole number or an alpha.
PROPOSABLE_GUARDRAILS = {
    "max_fallback_rate": "share",
    "min_schema_valid_rate": "share",
    "max_p95_latency_ms": "positive",
    "max_p50_latency_ratio": "positive",
    "max_cost_ratio": "positive or null",
    "min_telemetry_per_arm": "whole",
    "min_eval_samples_per_arm": "whole",
    "alpha": "alpha",
    "go_alpha": "alpha",
    "srm_alpha": "alpha",
}


def proposed_guardrails(
    entries: list[tuple[str, object, int]], label: str, problems: list[str]
) -> dict[str, object]:
    """A policy file's `canary` section: guardrails to lay over each decision's stored
    snapshot, each checked; problems appended, naming the file and line."""
    guardrails: dict[str, object] = {}
    for name, value, line in entries:
        kind = PROPOSABLE_GUARDRAILS.get(name)
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if kind is None:
            known = ", ".join(PROPOSABLE_GUARDRAILS)
            problems.append(f"{label}:{line}: {name}: unknown guardrail (known: {known})")
        elif value is None and kind == "positive or null":
            guardrails[name] = None
        elif not number or not math.isfinite(value) or value <= 0:  # type: ignore[arg-type]
            problems.append(f"{label}:{line}: {name}: must be a number above 0, got {value!r}")
        elif kind == "share" and value > 1:  # type: ignore[operator]
            problems.append(f"{label}:{line}: {name}: a rate must be <= 1, got {value}")
        elif kind == "alpha" and value >= 1:  # type: ignore[operator]
            problems.append(f"{label}:{line}: {name}: an alpha must be below 1, got {value}")
        elif kind == "whole" and value != int(value):  # type: ignore[call-overload]
            problems.append(f"{label}:{line}: {name}: must be a whole number, got {value}")
        else:
            guardrails[name] = value
    return guardrails


def policy_of(row: dict[str, object], proposed: dict[str, object] | None = None) -> Policy:
    """A stored decision's policy (its guardrail and trigger snapshots), with proposed
    guardrails laid over it."""
    guardrails = {**row["guardrails"], **(proposed or {})}  # type: ignore[dict-item]
    return Policy.from_seeds(guardrails, row["rollback_triggers"])  # type: ignore[arg-type]


def sample_ratio_rule(row: dict[str, object]) -> dict[str, object] | None:
    """A stored decision's sample-ratio rule: its threshold is the expected canary share
    and its arms' values the step's routed rows."""
    return next((rule for rule in row["rules"] if rule["kind"] == "srm"), None)  # type: ignore[union-attr]


@dataclass(frozen=True)
class ReplayedDecision:
    decision_id: int
    decided_at: datetime
    canary: str
    baseline: str
    stored_decision: str
    replayed_decision: str | None  # None: its stored policy could not be read
    # what does not follow: "rule sample_ratio: go_bound stored 0.05, re-derived 0.06"
    discrepancies: list[str] = field(default_factory=list)
    # rows in the window now that the decision did not read (arrived after it)
    late_rows: dict[str, int] = field(default_factory=dict)
    note: str | None = None
    # under proposed guardrails (None: none proposed): the decision on the window's
    # data read again under them, and the rules it would have breached
    proposed_decision: str | None = None
    proposed_breached: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """The proposal would have decided otherwise."""
        return self.proposed_decision is not None and self.proposed_decision != self.stored_decision

    def as_json(self) -> dict[str, object]:
        return {
            "decision_id": self.decision_id,
            "decided_at": self.decided_at.isoformat(),
            "canary": self.canary,
            "baseline": self.baseline,
            "stored_decision": self.stored_decision,
            "replayed_decision": self.replayed_decision,
            "discrepancies": self.discrepancies,
            "late_rows": self.late_rows,
            "note": self.note,
            "proposed_decision": self.proposed_decision,
            "proposed_breached": self.proposed_breached,
        }


def stored_arm(document: dict[str, object]) -> Arm:
    """An arm as a decision stored it (ai_canary_decisions.arms)."""
    values = dict(document)
    values["fallback"] = Rate(**values["fallback"])  # type: ignore[arg-type]
    values["quality"] = {
        metric: Rate(**rate)  # type: ignore[arg-type]
        for metric, rate in (values.get("quality") or {}).items()  # type: ignore[union-attr]
    }
    for key in ("latency_order_statistics", "cost_order_statistics"):
        values[key] = {int(rank): value for rank, value in (values.get(key) or {}).items()}  # type: ignore[union-attr]
    known = set(Arm.__dataclass_fields__)
    return Arm(**{key: value for key, value in values.items() if key in known})  # type: ignore[arg-type]


def replay_decisions(
    conn: psycopg.Connection,
    database: Database,
    environment: str,
    start: datetime,
    proposed_guardrails: dict[str, object] | None = None,
) -> list[ReplayedDecision]:
    """Every decision of the environment made since `start` that used no synthetic
    evidence (those of `ai-gate simulate` decide nothing), newest first; with
    `proposed_guardrails` (laid over each decision's stored snapshot), also the
    decision they would have made on the window's data as it is now."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            sql.SQL(
                "select decision_id, decided_at, canary, baseline, window_start, window_end,"
                " eval_run_id, decision, rules, arms, guardrails, rollback_triggers, method"
                " from {} where environment = %s and decided_at >= %s"
                " and not coalesce(is_synthetic, false) order by decision_id desc"
            ).format(database.relation("ai_canary_decisions")),
            (environment, start),
        )
        stored = cur.fetchall()
    return [_replay(conn, database, environment, row, proposed_guardrails) for row in stored]


def _replay(
    conn: psycopg.Connection,
    database: Database,
    environment: str,
    row: dict[str, object],
    proposed_guardrails: dict[str, object] | None,
) -> ReplayedDecision:
    base = {
        "decision_id": int(row["decision_id"]),  # type: ignore[call-overload]
        "decided_at": row["decided_at"],
        "canary": str(row["canary"]),
        "baseline": str(row["baseline"]),
        "stored_decision": str(row["decision"]),
    }
    if row["method"] != METHOD:
        return ReplayedDecision(
            **base,  # type: ignore[arg-type]
            replayed_decision=None,
            note=f"decided by other rules ({row['method'] or 'point estimates'}): not re-derived",
        )
    try:
        policy = policy_of(row)
        arms = {name: stored_arm(arm) for name, arm in row["arms"].items()}  # type: ignore[union-attr]
    except (KeyError, TypeError, ValueError) as exc:
        return ReplayedDecision(
            **base,  # type: ignore[arg-type]
            replayed_decision=None,
            note=f"stored before its policy or evidence was complete ({exc}): not re-derived",
        )
    stored_rules = {rule["name"]: rule for rule in row["rules"]}  # type: ignore[union-attr]
    srm = sample_ratio_rule(row)
    expected_share = srm["threshold"] if srm else None
    step_rows = (int(srm["canary_value"]), int(srm["baseline_value"])) if srm else None
    canary, baseline = base["canary"], base["baseline"]
    decision, rules = judge(
        arms[canary].counts(),
        arms[baseline].counts(),
        policy,
        expected_share,
        step_rows,  # type: ignore[index]
    )
    problems = _rule_differences(stored_rules, {rule.name: rule for rule in rules})
    if decision != row["decision"]:
        problems.insert(0, f"decision: stored {row['decision']}, re-derived {decision}")
    late: dict[str, int] = {}
    for provider in (canary, baseline):
        data_problems, arrived = _against_the_data(
            conn,
            database,
            environment,
            row,
            policy,
            arms[provider],  # type: ignore[index]
        )
        problems += data_problems
        late.update(arrived)
    proposed: dict[str, object] = {}
    if proposed_guardrails:
        proposed_policy = policy_of(row, proposed_guardrails)
        read = {
            provider: read_arm(conn, database, environment, row, proposed_policy, provider)
            for provider in (canary, baseline)
        }
        outcome, proposed_rules = judge(
            read[canary].counts(), read[baseline].counts(), proposed_policy, expected_share,
            step_rows,
        )  # fmt: skip
        proposed = {
            "proposed_decision": outcome,
            "proposed_breached": [r.name for r in proposed_rules if r.status == "breached"],
        }
    return ReplayedDecision(
        **base,  # type: ignore[arg-type]
        replayed_decision=decision,
        discrepancies=problems,
        late_rows=late,
        **proposed,  # type: ignore[arg-type]
    )


def read_arm(
    conn: psycopg.Connection,
    database: Database,
    environment: str,
    row: dict[str, object],
    policy: Policy,
    provider: str,
) -> Arm:
    """One arm read again from the decision's window, as the data is now."""
    scope = {"environment": environment, "synthetic": False}
    start, end = row["window_start"], row["window_end"]
    return arm_from(
        provider,
        telemetry_arm(conn, database, provider, start, end, scope, policy),  # type: ignore[arg-type]
        quality_arm(conn, database, provider, start, end, row["eval_run_id"], scope),  # type: ignore[arg-type]
    )


def _same(stored: object, derived: object) -> bool:
    if isinstance(stored, int | float) and isinstance(derived, int | float):
        return math.isclose(float(stored), float(derived), rel_tol=1e-9, abs_tol=1e-12)
    return stored == derived


def _rule_differences(
    stored: dict[str, dict[str, object]], derived: dict[str, object]
) -> list[str]:
    problems = []
    for name in sorted(stored.keys() | derived.keys()):
        old, new = stored.get(name), derived.get(name)
        if old is None or new is None:
            problems.append(f"rule {name}: {'stored only' if new is None else 're-derived only'}")
            continue
        new_values = {key: getattr(new, key) for key in RULE_FIELDS}
        new_values.update({f"evidence.{k}": v for k, v in new.evidence.items()})  # type: ignore[attr-defined]
        old_values = {key: old.get(key) for key in RULE_FIELDS}
        old_values.update({f"evidence.{k}": v for k, v in (old.get("evidence") or {}).items()})  # type: ignore[union-attr]
        for key in sorted(old_values.keys() | new_values.keys()):
            if not _same(old_values.get(key), new_values.get(key)):
                problems.append(
                    f"rule {name}: {key} stored {old_values.get(key)}, "
                    f"re-derived {new_values.get(key)}"
                )
    return problems


def _against_the_data(
    conn: psycopg.Connection,
    database: Database,
    environment: str,
    row: dict[str, object],
    policy: Policy,
    stored: Arm,
) -> tuple[list[str], dict[str, int]]:
    """The arm read again from the telemetry and eval samples of the decision's window:
    (discrepancies, rows that arrived after the decision by count)."""
    now = read_arm(conn, database, environment, row, policy, stored.provider)
    problems: list[str] = []
    late: dict[str, int] = {}
    for count in COUNTS:
        before, after = int(getattr(stored, count)), int(getattr(now, count))
        if after > before:
            late[f"{stored.provider}.{count}"] = after - before
        elif after < before:
            problems.append(
                f"{stored.provider} {count}: the decision read {before}, the window now holds "
                f"{after} (rows it read are gone)"
            )
    if not late and any(
        not _same(value, now.latency_order_statistics.get(rank))
        for rank, value in stored.latency_order_statistics.items()
    ):
        problems.append(
            f"{stored.provider} latency order statistics differ from the window's rows "
            "with the same count (rows changed since the decision)"
        )
    return problems, late
