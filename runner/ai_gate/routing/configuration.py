"""The effective routing configuration: the dbt view `ai_provider_configs` (the seeded
defaults overlaid by the latest change-log row per provider and environment), read as
ProviderConfig rows, the environments it knows, the roles the seed gives providers, and
the routing invariants any configuration must keep."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from ai_gate.database import Database
from ai_gate.errors import InputRejected

CONFIG_VIEW = "ai_provider_configs"
# The values a change-log row sets (the rest come from the seed alone).
OVERRIDABLE = ("enabled", "is_default", "weight", "timeout_ms", "max_retries")
# The roles the routing seed gives providers in `metadata` (ai_provider_config_defaults).
CANARY_ROLE = "canary"
PRIMARY_ROLE = "primary"


@dataclass(frozen=True)
class ProviderConfig:
    provider: str
    environment: str
    enabled: bool
    is_default: bool
    weight: int
    timeout_ms: int
    max_retries: int
    model: str | None
    prompt_template_version: str | None
    metadata: dict | None
    last_change_id: int | None
    last_changed_at: datetime | None
    last_changed_by: str | None
    last_change_reason: str | None

    def overridable_values(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in OVERRIDABLE}


def role(config: ProviderConfig) -> str | None:
    """The part the routing seed gives a provider in a canary rollout, if any."""
    value = (config.metadata or {}).get("role")
    return value if isinstance(value, str) else None


def unknown_environment(environment: str, known: Sequence[str]) -> InputRejected:
    """The one refusal of an environment nobody configured, whichever command meets it."""
    return InputRejected(
        f"unknown environment {environment!r} (known: {', '.join(sorted(known)) or 'none'})"
    )


# The seed whose rows are the configuration's defaults: its environments are the
# environments (the view has a row per seed row).
DEFAULTS_SEED = "ai_provider_config_defaults"


def require_known_environment(database: Database, environment: str) -> None:
    """The environments are those the routing defaults seed configures (read from the
    seed, so that a command checking its --env does not read the configuration for it)."""
    with database.connect() as conn:
        rows = conn.execute(
            sql.SQL("select distinct environment from {} order by 1").format(
                database.relation(DEFAULTS_SEED)
            )
        ).fetchall()
    known = [row[0] for row in rows]
    if environment not in known:
        raise unknown_environment(environment, known)


def read_effective(
    conn: psycopg.Connection, database: Database, environment: str | None = None
) -> list[ProviderConfig]:
    query = sql.SQL(
        "select * from {} where %(environment)s::text is null or environment = %(environment)s"
    ).format(database.relation(CONFIG_VIEW))
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, {"environment": environment})
        return in_display_order([ProviderConfig(**row) for row in cur.fetchall()])


def in_display_order(configs: Sequence[ProviderConfig]) -> list[ProviderConfig]:
    """Configurations as every command lists them: by environment, its default first,
    then by provider (also a change's result, whose default may have moved)."""
    return sorted(configs, key=lambda c: (c.environment, not c.is_default, c.provider))


def effective_configuration(
    database: Database, environment: str | None = None
) -> list[ProviderConfig]:
    with database.connect() as conn:
        return read_effective(conn, database, environment)


def invariant_violations(configs: Sequence[ProviderConfig]) -> list[str]:
    """The routing invariants, per environment (the dbt tests check the same)."""
    problems: list[str] = []
    for environment in sorted({config.environment for config in configs}):
        rows = [config for config in configs if config.environment == environment]
        defaults = [row.provider for row in rows if row.enabled and row.is_default]
        if len(defaults) != 1:
            found = ", ".join(defaults) if defaults else "none"
            problems.append(
                f"{environment}: exactly one enabled provider must be the default (found: {found})"
            )
        if not any(row.enabled and row.weight > 0 for row in rows):
            problems.append(f"{environment}: at least one enabled provider needs a weight > 0")
        for row in rows:
            where = f"{environment}/{row.provider}"
            if row.weight < 0:
                problems.append(f"{where}: weight must be >= 0 (got {row.weight})")
            if row.timeout_ms <= 0:
                problems.append(f"{where}: timeout_ms must be > 0 (got {row.timeout_ms})")
            if row.max_retries < 0:
                problems.append(f"{where}: max_retries must be >= 0 (got {row.max_retries})")
    return problems
