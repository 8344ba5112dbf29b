"""The arms of a canary rollout: the canary and the baseline it is compared with in one
environment, from the routing seed's roles unless named, and the check that an action
which moves traffic (a drill, a rollback, a step) acts on the seeded roles only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ai_gate.database import Database
from ai_gate.errors import InputRejected
from ai_gate.routing.configuration import (
    CANARY_ROLE,
    PRIMARY_ROLE,
    ProviderConfig,
    effective_configuration,
    role,
    unknown_environment,
)


@dataclass(frozen=True)
class Arms:
    """The two providers a canary rollout compares, in one environment."""

    environment: str
    canary: str
    baseline: str


@dataclass(frozen=True)
class ArmNames:
    """The arms a command asks for: an environment, and the canary and baseline when
    named (else the routing seed's roles). Resolved against the configuration the
    command reads (a canary decision: in its snapshot)."""

    environment: str
    canary: str | None = None
    baseline: str | None = None

    def resolve(self, configs: Sequence[ProviderConfig]) -> Arms:
        return resolve_arms(configs, self.environment, self.canary, self.baseline)


def resolve_arms(
    configs: Sequence[ProviderConfig],
    environment: str,
    canary: str | None = None,
    baseline: str | None = None,
) -> Arms:
    """The canary and baseline of an environment: as given, else from the routing
    seed's roles (the one provider whose metadata says role "canary"; the baseline is
    the one whose role is "primary", else the default provider, among the primaries
    when there are several). Checked once: both are
    providers of the environment, and different."""
    rows = [config for config in configs if config.environment == environment]
    known = sorted(config.provider for config in rows)
    if not rows:
        raise unknown_environment(environment, {config.environment for config in configs})

    def by_role(wanted: str, what: str) -> str:
        named = [config.provider for config in rows if role(config) == wanted]
        if len(named) == 1:
            return named[0]
        if wanted == PRIMARY_ROLE:  # none or several primaries: the default among them
            defaults = [config.provider for config in rows if config.is_default]
            if len(defaults) == 1 and (not named or defaults[0] in named):
                return defaults[0]
        found = ", ".join(named) if named else "none"
        raise InputRejected(
            f"no single {what} in {environment!r} (providers whose metadata role is"
            f" {wanted!r}: {found}); name it with --{what}"
        )

    canary = canary if canary is not None else by_role(CANARY_ROLE, "canary")
    baseline = baseline if baseline is not None else by_role(PRIMARY_ROLE, "baseline")
    for provider in (canary, baseline):
        if provider not in known:
            raise InputRejected(
                f"unknown provider {provider!r} in environment {environment!r}"
                f" (its providers: {', '.join(known)})"
            )
    if canary == baseline:
        raise InputRejected(
            f"the canary and the baseline must be different providers (both {canary!r})"
        )
    return Arms(environment, canary, baseline)


def require_rollout_roles(configs: Sequence[ProviderConfig], arms: Arms, action: str) -> None:
    """Before `action` moves traffic (a drill, a rollback, a step): the arms must be the
    routing seed's canary and primary where it names them, and the canary must not be
    the environment's default where it names none (a rollback would take the default's
    traffic away). Refused with nothing written otherwise."""
    rows = [config for config in configs if config.environment == arms.environment]
    for wanted, given, option in (
        (CANARY_ROLE, arms.canary, "--canary"),
        (PRIMARY_ROLE, arms.baseline, "--baseline"),
    ):
        seeded = [config.provider for config in rows if role(config) == wanted]
        if len(seeded) == 1 and given != seeded[0]:
            raise InputRejected(
                f"{action}: {option} {given} is not {arms.environment}'s {wanted}: the routing "
                f"seed names {seeded[0]} (metadata role {wanted!r}); {action} acts on the seeded "
                "roles only, so that it never takes traffic from the wrong provider; nothing "
                "was done"
            )
    if not any(role(config) == CANARY_ROLE for config in rows):
        default = next((c.provider for c in rows if c.enabled and c.is_default), None)
        if arms.canary == default:
            raise InputRejected(
                f"{action}: {arms.canary} is {arms.environment}'s default provider: rolling it "
                "back would take the environment's default away; name the canary with "
                "--canary; nothing was done"
            )


def read_arms(
    database: Database, environment: str, canary: str | None = None, baseline: str | None = None
) -> Arms:
    """An environment's arms, from its configuration as it is now (one read, checked
    once: the environment, both providers)."""
    return resolve_arms(effective_configuration(database), environment, canary, baseline)
