"""What the canary's decisions make happen: a rollback (route nothing to the canary)
and a step to the rollout plan's next share, each recorded as audited flag changes."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from ai_gate.actor import default_actor
from ai_gate.database import Database
from ai_gate.errors import InputRejected
from ai_gate.rollout.arms import ArmNames, Arms, require_rollout_roles
from ai_gate.rollout.canary import Decision, read_latest_decision, read_rollout_plan
from ai_gate.routing.change_log import ChangePlan, FlagChange, RecordedChange, record_changes
from ai_gate.routing.configuration import ProviderConfig
from ai_gate.routing.traffic import traffic_shares, weights_for_share


def rollback_changes(
    configs: list[ProviderConfig],
    canary: str,
    baseline: str,
    reason: str,
    actor: str,
    via: str,
) -> list[FlagChange]:
    """Flag changes that route nothing to the canary (moving the default off it first)."""
    environment = configs[0].environment
    changes = []
    by_provider = {config.provider: config for config in configs}
    if by_provider[canary].is_default:
        changes.append(
            FlagChange(
                baseline, environment, reason, actor, enabled=True, make_default=True, via=via
            )
        )
        if by_provider[baseline].weight == 0:
            changes.append(
                FlagChange(
                    baseline,
                    environment,
                    reason,
                    actor,
                    weight=max(by_provider[canary].weight, 1),
                    via=via,
                )
            )
    changes.append(FlagChange(canary, environment, reason, actor, enabled=False, via=via))
    return changes


def apply_rollback(
    database: Database, decision: Decision, actor: str | None = None
) -> RecordedChange | None:
    """Record the rollback a `rollback` decision calls for (`canary evaluate --apply`);
    None when the decision is something else. The rollback is worked out from the
    configuration as it is under the routing lock (a flag change may have come since
    the decision's snapshot), read once there."""
    if decision.decision != "rollback":
        return None
    breached = [r.name for r in decision.rules if r.kind == "rollback" and r.status == "breached"]
    reason = f"canary rollback: decision #{decision.decision_id} ({', '.join(breached)})"
    arms = Arms(decision.environment, decision.canary, decision.baseline)

    def rollback(_conn: psycopg.Connection, configs: list[ProviderConfig]) -> list[FlagChange]:
        require_rollout_roles(configs, arms, "rollback")
        return rollback_changes(
            configs,
            arms.canary,
            arms.baseline,
            reason,
            actor or default_actor(),
            "ai-gate canary evaluate --apply",
        )

    return record_changes(database, ChangePlan(arms.environment, rollback))


@dataclass(frozen=True)
class StepResult:
    arms: Arms
    decision_id: int
    from_percent: float
    to_percent: int
    recorded: RecordedChange


def step(database: Database, names: ArmNames, actor: str | None = None) -> StepResult:
    """Move the canary to the plan's next share of traffic, only after a `go`. The arms,
    the latest decision and the next share are worked out under the routing lock from
    the configuration read there, once."""
    actor = actor or default_actor()
    worked_out: dict[str, object] = {}

    def next_share(conn: psycopg.Connection, configs: list[ProviderConfig]) -> list[FlagChange]:
        arms = names.resolve(configs)
        environment, canary = arms.environment, arms.canary
        latest = read_latest_decision(conn, database, environment, canary)
        if latest is None or latest["decision"] != "go":
            found = f"#{latest['decision_id']} is {latest['decision']!r}" if latest else "none"
            raise InputRejected(
                f"the latest canary decision for {canary} in {environment} ({found}) is not "
                "`go`: run `ai-gate canary evaluate` and step only on go; nothing was written"
            )
        if latest["is_synthetic"]:
            raise InputRejected(
                f"canary decision #{latest['decision_id']} used synthetic rows (ai-gate "
                "simulate, --include-synthetic): it cannot move real traffic; nothing was "
                "written"
            )
        require_rollout_roles(configs, arms, "canary step")
        by_provider = {config.provider: config for config in configs}
        canary_config = by_provider[canary]
        if not canary_config.enabled:
            raise InputRejected(f"{canary} is disabled in {environment}; enable it before stepping")
        if canary_config.last_changed_at and canary_config.last_changed_at > latest["decided_at"]:
            raise InputRejected(
                f"{canary}'s flags changed after decision #{latest['decision_id']}: evaluate "
                "again before the next step; nothing was written"
            )
        current = traffic_shares(configs)[(environment, canary)] * 100
        plan = read_rollout_plan(conn, database, arms)
        if not plan:
            raise InputRejected(
                f"no rollout plan for {canary} in {environment} (seed ai_canary_rollout_plan); "
                "nothing was written"
            )
        following = [percent for percent in plan if percent > current + 1e-9]
        if not following:
            raise InputRejected(
                f"{canary} already gets {current:.1f}% of {environment}: the plan "
                f"({' -> '.join(map(str, plan))}) is complete"
            )
        target = following[0]
        reason = f"canary step to {target}% of traffic after go decision #{latest['decision_id']}"
        weights = weights_for_share(configs, canary, target)
        worked_out.update(arms=arms, decision_id=int(latest["decision_id"]), current=current)
        worked_out["target"] = target
        via = "ai-gate canary step"
        return [
            FlagChange(provider, environment, reason, actor, weight=weight, via=via)
            for provider, weight in weights.items()
            if weight != by_provider[provider].weight
        ]

    recorded = record_changes(
        database,
        ChangePlan(names.environment, next_share),
        # the plan's next share, after a go decision: the move the rollout is for
        confirm_traffic=True,
    )
    return StepResult(
        worked_out["arms"],  # type: ignore[arg-type]
        worked_out["decision_id"],  # type: ignore[arg-type]
        worked_out["current"],  # type: ignore[arg-type]
        worked_out["target"],  # type: ignore[arg-type]
        recorded,
    )
