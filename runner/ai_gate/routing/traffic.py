"""Traffic shares: what part of an environment's traffic each provider's weight claims,
the weights that give a provider a share, and what a change does to the shares (and
whether it moves traffic toward the canary, which needs an acknowledgement)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from ai_gate.errors import InputRejected
from ai_gate.routing.configuration import CANARY_ROLE, ProviderConfig, role

# The acknowledgement a flag change needs to move traffic toward the canary.
CONFIRM_TRAFFIC_OPTION = "--confirm-traffic"


def traffic_shares(configs: Iterable[ProviderConfig]) -> dict[tuple[str, str], float]:
    """Share of an environment's traffic each provider's weight claims (0..1)."""
    environments: dict[str, list[ProviderConfig]] = {}
    for row in configs:
        environments.setdefault(row.environment, []).append(row)
    return {
        (environment, provider): share
        for environment, rows in environments.items()
        for provider, share in environment_shares(rows).items()
    }


def environment_shares(rows: Sequence[ProviderConfig]) -> dict[str, float]:
    """One environment's shares: an enabled provider's weight over the enabled ones'."""
    total = sum(row.weight for row in rows if row.enabled)
    return {row.provider: row.weight / total if row.enabled and total else 0.0 for row in rows}


def weights_for_share(
    configs: Iterable[ProviderConfig], provider: str, percent: int
) -> dict[str, int]:
    """Weights that give `provider` `percent`% of its environment's traffic, every other
    enabled provider keeping its weight relative to the others (disabled ones are left
    as they are). The weights sum to 100 where that keeps the others' proportions
    exactly; otherwise they are the smallest integers that do."""
    configs = list(configs)
    others = {c.provider: c.weight for c in configs if c.enabled and c.provider != provider}
    rest = sum(others.values())
    if percent >= 100:
        return {provider: 100, **dict.fromkeys(others, 0)}
    if rest == 0:
        raise InputRejected(
            f"no other enabled provider has a weight to take the other {100 - percent}% of"
            " the traffic: give one a weight first"
        )
    if all(weight * (100 - percent) % rest == 0 for weight in others.values()):
        return {
            provider: percent,
            **{name: weight * (100 - percent) // rest for name, weight in others.items()},
        }
    scaled = {name: weight * (100 - percent) for name, weight in others.items()}
    divisor = math.gcd(percent * rest, *scaled.values())
    return {
        provider: percent * rest // divisor,
        **{name: weight // divisor for name, weight in scaled.items()},
    }


@dataclass(frozen=True)
class TrafficMove:
    """What a change does to an environment's traffic: each provider's share before and
    after (0..1), and why it needs an acknowledgement (empty: it needs none)."""

    environment: str
    before: dict[str, float]
    after: dict[str, float]
    needs_confirmation: tuple[str, ...] = ()

    @property
    def moves(self) -> bool:
        return any(abs(self.after[p] - self.before[p]) > 1e-12 for p in self.after)

    def describe(self) -> str:
        """`openai 99.0% -> 100.0%, custom 1.0% -> 0.0%`, or the shares, unchanged."""
        if not self.moves:
            shares = ", ".join(f"{p} {share:.1%}" for p, share in self.after.items())
            return f"{self.environment} traffic unchanged: {shares}"
        changes = ", ".join(
            f"{p} {self.before[p]:.1%} -> {share:.1%}" for p, share in self.after.items()
        )
        return f"{self.environment} traffic: {changes}"


def traffic_move(
    current: Sequence[ProviderConfig], proposed: Sequence[ProviderConfig]
) -> TrafficMove:
    """The traffic a change moves, and whether it moves it toward the canary outside
    `ai-gate canary step` (which moves it by the rollout plan, after a go decision):
    raising a canary's share, making a canary the default (the fallback target), or
    leaving a provider that is not the default serving the majority. Moves toward
    safety (disabling the canary, lowering its share, a rollback) need nothing."""
    environment = proposed[0].environment
    before, after = environment_shares(current), environment_shares(proposed)
    was_default = {row.provider: row.is_default for row in current}
    reasons = []
    move = TrafficMove(environment, before, after)
    for row in proposed:
        canary = role(row) == CANARY_ROLE
        if canary and move.moves and after[row.provider] > before[row.provider] + 1e-12:
            reasons.append(
                f"it raises the canary {row.provider}'s share of {environment} from "
                f"{before[row.provider]:.1%} to {after[row.provider]:.1%} outside `ai-gate "
                "canary step` (which moves it to the rollout plan's next share after a go "
                "decision)"
            )
        if canary and row.enabled and row.is_default and not was_default[row.provider]:
            reasons.append(
                f"it makes the canary {row.provider} {environment}'s default (the fallback "
                "target of every other provider)"
            )
        if move.moves and not row.is_default and after[row.provider] > 0.5:
            reasons.append(
                f"{row.provider}, which is not the default, would serve "
                f"{after[row.provider]:.1%} of {environment}"
            )
    return replace(move, needs_confirmation=tuple(reasons))
