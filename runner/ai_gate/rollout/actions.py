"""What the canary's decisions make happen: a rollback (route nothing to the canary)
and a step to the rollout plan's next share, each recorded as audited flag changes."""

from __future__ import annotations

from dataclasses import dataclass

from ai_gate.actor import default_actor
from ai_gate.database import Database
from ai_gate.errors import InputRejected
from ai_gate.rollout.arms import Arms, require_rollout_roles
from ai_gate.rollout.canary import Decision, latest_decision, rollout_plan
from ai_gate.routing.change_log import FlagChange, RecordedChange, record_changes
from ai_gate.routing.configuration import ProviderConfig, effective_configuration
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
    None when the decision is something else."""
    if decision.decision != "rollback":
        return None
    breached = [r.name for r in decision.rules if r.kind == "rollback" and r.status == "breached"]
    reason = f"canary rollback: decision #{decision.decision_id} ({', '.join(breached)})"
    configs = effective_configuration(database, decision.environment)
    require_rollout_roles(
        configs,
        Arms(decision.environment, decision.canary, decision.baseline),
        "rollback",
    )
    return record_changes(
        database,
        rollback_changes(
            configs,
            decision.canary,
            decision.baseline,
            reason,
            actor or default_actor(),
            "ai-gate canary evaluate --apply",
        ),
    )


@dataclass(frozen=True)
class StepResult:
    decision_id: int
    from_percent: float
    to_percent: int
    recorded: RecordedChange


def step(database: Database, arms: Arms, actor: str | None = None) -> StepResult:
    """Move the canary to the plan's next share of traffic, only after a `go`."""
    environment, canary = arms.environment, arms.canary
    actor = actor or default_actor()
    latest = latest_decision(database, environment, canary)
    if latest is None or latest["decision"] != "go":
        found = f"#{latest['decision_id']} is {latest['decision']!r}" if latest else "none"
        raise InputRejected(
            f"the latest canary decision for {canary} in {environment} ({found}) is not `go`: "
            "run `ai-gate canary evaluate` and step only on go; nothing was written"
        )
    if latest["is_synthetic"]:
        raise InputRejected(
            f"canary decision #{latest['decision_id']} used synthetic rows (ai-gate simulate, "
            "--include-synthetic): it cannot move real traffic; nothing was written"
        )
    configs = effective_configuration(database, environment)
    require_rollout_roles(configs, arms, "canary step")
    by_provider = {config.provider: config for config in configs}
    canary_config = by_provider[canary]
    if not canary_config.enabled:
        raise InputRejected(f"{canary} is disabled in {environment}; enable it before stepping")
    if canary_config.last_changed_at and canary_config.last_changed_at > latest["decided_at"]:
        raise InputRejected(
            f"{canary}'s flags changed after decision #{latest['decision_id']}: evaluate again "
            "before the next step; nothing was written"
        )
    current = traffic_shares(configs)[(environment, canary)] * 100
    plan = rollout_plan(database, arms)
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
    via = "ai-gate canary step"
    weights = weights_for_share(configs, canary, target)
    recorded = record_changes(
        database,
        [
            FlagChange(provider, environment, reason, actor, weight=weight, via=via)
            for provider, weight in weights.items()
            if weight != by_provider[provider].weight
        ],
        # the plan's next share, after a go decision: the move the rollout is for
        confirm_traffic=True,
    )
    return StepResult(int(latest["decision_id"]), current, target, recorded)
