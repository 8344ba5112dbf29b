"""Provider routing flags: the effective configuration and its audited changes.

The effective configuration is the dbt view `ai_provider_configs` (seeded defaults
overlaid by the latest change per provider and environment); a change is one or more
rows appended to `ai_provider_config_changes`, checked against the routing
invariants first, written in one transaction under a table lock.
"""

from __future__ import annotations

import json
import math
import shlex
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from ai_gate.database import Database
from ai_gate.errors import InputRejected, RuntimeFailure
from ai_gate.jsonable import JsonFields
from ai_gate.safe_text import is_unsafe_character, printable

CONFIG_VIEW = "ai_provider_configs"
CHANGE_LOG = "ai_provider_config_changes"
OVERRIDABLE = ("enabled", "is_default", "weight", "timeout_ms", "max_retries")
# The integer columns of the change log (PostgreSQL integer) and what makes sense.
VALUE_RANGES = {
    "weight": (0, 2**31 - 1),
    "timeout_ms": (1, 2**31 - 1),
    "max_retries": (0, 2**31 - 1),
}
# Audit text: long enough for a sentence and an incident link; the database says the same.
MAX_AUDIT_TEXT = 500
# How long a change waits for the routing lock (a rollback drill takes seconds).
ROUTING_LOCK_WAIT_SECONDS = 60


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


@dataclass(frozen=True)
class FlagChange:
    """What `flags set` asks for; None leaves a value as it is."""

    provider: str
    environment: str
    reason: str
    actor: str
    enabled: bool | None = None
    make_default: bool = False
    weight: int | None = None
    timeout_ms: int | None = None
    max_retries: int | None = None
    via: str = "ai-gate flags set"

    def command(self, confirm_traffic: bool = False) -> str:
        """The `ai-gate flags set` command that asks for this change."""
        words = ["ai-gate", "flags", "set", self.provider, "--env", self.environment]
        if self.enabled is not None:
            words.append("--enable" if self.enabled else "--disable")
        if self.weight is not None:
            words += ["--weight", str(self.weight)]
        if self.make_default:
            words.append("--default")
        if self.timeout_ms is not None:
            words += ["--timeout-ms", str(self.timeout_ms)]
        if self.max_retries is not None:
            words += ["--max-retries", str(self.max_retries)]
        words += ["--reason", self.reason]
        if confirm_traffic:
            words.append("--confirm-traffic")
        return shlex.join(words)


# The acknowledgement a flag change needs to move traffic toward the canary.
CONFIRM_TRAFFIC_OPTION = "--confirm-traffic"


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
    before, after = _environment_shares(current), _environment_shares(proposed)
    was_default = {row.provider: row.is_default for row in current}
    reasons = []
    move = TrafficMove(environment, before, after)
    for row in proposed:
        canary = _role(row) == CANARY_ROLE
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


@dataclass(frozen=True)
class RecordedChange:
    change_set_id: str | None
    rows: list[tuple[ProviderConfig, ProviderConfig]]  # (before, after) per provider
    traffic: TrafficMove | None = None

    @property
    def recorded(self) -> bool:
        return bool(self.rows)


def unknown_environment(environment: str, known: Sequence[str]) -> InputRejected:
    """The one refusal of an environment nobody configured, whichever command meets it."""
    return InputRejected(
        f"unknown environment {environment!r} (known: {', '.join(sorted(known)) or 'none'})"
    )


def require_known_environment(database: Database, environment: str) -> None:
    """The environments are those the routing defaults seed configures."""
    with database.connect() as conn:
        known = sorted({row.environment for row in read_effective(conn, database)})
    if environment not in known:
        raise unknown_environment(environment, known)


def check_audit_text(option: str, text: str) -> None:
    """Reason and actor are printed by `flags history` and read in incidents: not
    blank, at most MAX_AUDIT_TEXT characters, no control characters."""
    if not text.strip():
        raise InputRejected(f"{option} must not be blank (it is recorded in the audit log)")
    if len(text) > MAX_AUDIT_TEXT:
        raise InputRejected(
            f"{option} is {len(text):,} characters; at most {MAX_AUDIT_TEXT} are recorded"
        )
    for position, character in enumerate(text, start=1):
        if is_unsafe_character(character):
            raise InputRejected(
                f"{option} contains a control character (U+{ord(character):04X}) at "
                f"position {position}; write it on one line of plain text"
            )


def read_effective(
    conn: psycopg.Connection, database: Database, environment: str | None = None
) -> list[ProviderConfig]:
    query = sql.SQL(
        "select * from {} where %(environment)s::text is null or environment = %(environment)s"
        " order by environment, is_default desc, provider"
    ).format(database.relation(CONFIG_VIEW))
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, {"environment": environment})
        return [ProviderConfig(**row) for row in cur.fetchall()]


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


def propose(current: Sequence[ProviderConfig], change: FlagChange) -> list[ProviderConfig]:
    """The environment's configuration as it would be after `change`."""
    proposed: list[ProviderConfig] = []
    for row in current:
        if row.provider == change.provider:
            updates: dict[str, object] = {}
            if change.enabled is not None:
                updates["enabled"] = change.enabled
            if change.make_default:
                updates["is_default"] = True
            for name in ("weight", "timeout_ms", "max_retries"):
                value = getattr(change, name)
                if value is not None:
                    updates[name] = value
            row = replace(row, **updates)
        elif change.make_default and row.is_default:
            row = replace(row, is_default=False)
        proposed.append(row)
    return proposed


def record_change(
    database: Database, change: FlagChange, *, confirm_traffic: bool = False
) -> RecordedChange:
    """Validate and append one change set; raises InputRejected with nothing written."""
    return record_changes(database, [change], confirm_traffic=confirm_traffic)


# Two 32-bit keys: 'aigt' and 'rout' — ai-gate's routing changes. Every change ai-gate
# makes takes it for its transaction; a rollback drill holds it for its whole span,
# so no other ai-gate change interleaves with the drill's rollback and restore.
ROUTING_LOCK_KEYS = (0x61696774, 0x726F7574)


@contextmanager
def routing_lock(database: Database) -> Iterator[psycopg.Connection]:
    """Hold the routing lock on a session of its own (autocommit) until the block ends;
    changes recorded through `record_changes(..., conn=)` on that session run under it."""
    with database.connect(autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(%s, %s)", ROUTING_LOCK_KEYS)
        try:
            yield conn
        finally:
            if not conn.closed and not conn.broken:
                conn.execute("select pg_advisory_unlock(%s, %s)", ROUTING_LOCK_KEYS)


@dataclass(frozen=True)
class LastChange:
    change_id: int
    change_set_id: str
    changed_by: str
    changed_at: datetime
    reason: str

    def describe(self) -> str:
        return (
            f"change {self.change_id} by {printable(self.changed_by)} at "
            f"{self.changed_at:%Y-%m-%d %H:%M:%S %Z} ({printable(self.reason)})"
        )


def last_change(
    conn: psycopg.Connection, database: Database, environment: str
) -> LastChange | None:
    """The newest change-log row of an environment."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            sql.SQL(
                "select change_id, change_set_id::text, changed_by, changed_at, reason from {}"
                " where environment = %s order by change_id desc limit 1"
            ).format(database.relation(CHANGE_LOG)),
            (environment,),
        )
        row = cur.fetchone()
    return LastChange(**row) if row else None


def record_changes(
    database: Database,
    changes: Sequence[FlagChange],
    *,
    conn: psycopg.Connection | None = None,
    expect_last_change_set: str | None = None,
    confirm_traffic: bool = False,
) -> RecordedChange:
    """Apply several changes to one environment as one audited change set.

    They are applied in order to the effective configuration, the result is checked
    against the invariants and against moving traffic toward the canary unconfirmed
    (`traffic_move`; `confirm_traffic` acknowledges it, and the log records that), and
    every provider whose values changed gets one row. On `conn` (a session holding the
    routing lock), else on a connection of its own. With `expect_last_change_set`,
    refused (nothing written) when the environment's newest change is not of that
    change set ("": when it has any change): someone changed the flags since.
    """
    if conn is None:
        with database.connect() as own:
            return _record_changes(database, own, changes, expect_last_change_set, confirm_traffic)
    return _record_changes(database, conn, changes, expect_last_change_set, confirm_traffic)


def _check_change_values(change: FlagChange) -> None:
    check_audit_text("--reason", change.reason)
    check_audit_text("--actor", change.actor)
    for name, (low, high) in VALUE_RANGES.items():
        value = getattr(change, name)
        if value is not None and not low <= value <= high:
            raise InputRejected(
                f"--{name.replace('_', '-')} must be from {low:,} to {high:,}, "
                f"got {value:,}; nothing was written"
            )


def _lock_for_a_change(conn: psycopg.Connection, database: Database) -> None:
    """In the change's transaction: the routing lock, then the change log."""
    # ai-gate's changes wait for a drill in progress (a no-op for the drill itself,
    # whose session holds the lock).
    conn.execute(f"set local lock_timeout = '{ROUTING_LOCK_WAIT_SECONDS}s'")
    try:
        conn.execute("select pg_advisory_xact_lock(%s, %s)", ROUTING_LOCK_KEYS)
    except psycopg.errors.LockNotAvailable as exc:
        raise RuntimeFailure(
            f"another routing change (a rollback drill?) held the routing lock for "
            f"{ROUTING_LOCK_WAIT_SECONDS} s; nothing was written, try again"
        ) from exc
    # Serializes concurrent changes, SQL ones from the runbook too (each
    # validates against the state the previous one left) without blocking
    # readers of the view.
    conn.execute(
        sql.SQL("lock table {} in share row exclusive mode").format(database.relation(CHANGE_LOG))
    )


def _record_changes(
    database: Database,
    conn: psycopg.Connection,
    changes: Sequence[FlagChange],
    expect_last_change_set: str | None,
    confirm_traffic: bool,
) -> RecordedChange:
    if not changes:
        raise ValueError("no changes")
    environment = changes[0].environment
    if any(change.environment != environment for change in changes):
        raise ValueError("one change set covers one environment")
    for change in changes:
        _check_change_values(change)
    with conn.transaction():
        _lock_for_a_change(conn, database)
        if expect_last_change_set is not None:
            newest = last_change(conn, database, environment)
            if (newest.change_set_id if newest else "") != expect_last_change_set:
                raise InputRejected(
                    f"the flags of {environment} changed since: "
                    f"{newest.describe() if newest else 'the change log is empty'}; "
                    "nothing was written over that change"
                )
        current = read_effective(conn, database, environment)
        if not current:
            known = sorted({row.environment for row in read_effective(conn, database)})
            raise unknown_environment(environment, known)
        providers = [row.provider for row in current]
        proposed = list(current)
        for change in changes:
            if change.provider not in providers:
                raise InputRejected(
                    f"unknown provider {change.provider!r} in environment {environment!r} "
                    f"(known: {', '.join(providers)})"
                )
            proposed = propose(proposed, change)
        problems = invariant_violations(proposed)
        if problems:
            raise InputRejected("change refused: it would break a routing invariant", problems)
        move = traffic_move(current, proposed)
        if move.needs_confirmation and not confirm_traffic:
            raise _unconfirmed(move, changes)
        pairs = [
            (before, after)
            for before, after in zip(current, proposed, strict=True)
            if before.overridable_values() != after.overridable_values()
        ]
        if not pairs:
            return RecordedChange(None, [], move)
        change_set_id = str(uuid.uuid4())
        last = changes[-1]
        if move.needs_confirmation:  # acknowledged: the log says so
            last = replace(last, via=f"{last.via} {CONFIRM_TRAFFIC_OPTION}")
        _insert_change_rows(conn, database, change_set_id, last, pairs)
        return RecordedChange(change_set_id, pairs, move)


def _unconfirmed(move: TrafficMove, changes: Sequence[FlagChange]) -> InputRejected:
    """The refusal of a change that moves traffic toward the canary unacknowledged."""
    problems = list(move.needs_confirmation)
    if len(changes) == 1 and changes[0].via == "ai-gate flags set":
        problems.append(
            f"if that is what you mean: {changes[0].command(confirm_traffic=True)} "
            "(the acknowledgement is recorded in the audit log)"
        )
    return InputRejected(
        f"change refused: it moves traffic toward the canary without {CONFIRM_TRAFFIC_OPTION} "
        f"({move.describe()}); nothing was written",
        problems,
    )


def _insert_change_rows(
    conn: psycopg.Connection,
    database: Database,
    change_set_id: str,
    change: FlagChange,
    pairs: list[tuple[ProviderConfig, ProviderConfig]],
) -> None:
    """One change-log row per provider whose values changed, in one change set."""
    reason, actor, via = change.reason.strip(), change.actor.strip(), change.via
    insert = sql.SQL(
        "insert into {} (change_set_id, provider, environment, enabled, is_default, weight,"
        " timeout_ms, max_retries, reason, changed_by, changed_via, before_values)"
        " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    ).format(database.relation(CHANGE_LOG))
    with conn.cursor() as cur:
        cur.executemany(
            insert,
            [
                (
                    change_set_id,
                    after.provider,
                    after.environment,
                    after.enabled,
                    after.is_default,
                    after.weight,
                    after.timeout_ms,
                    after.max_retries,
                    reason,
                    actor,
                    via,
                    json.dumps(before.overridable_values()),
                )
                for before, after in pairs
            ],
        )


@dataclass(frozen=True)
class HistoryEntry(JsonFields):
    change_id: int
    change_set_id: str
    provider: str
    environment: str
    changed_at: datetime
    changed_by: str
    changed_via: str
    db_user: str
    reason: str
    before: dict[str, object]
    after: dict[str, object]

    def differences(self) -> list[str]:
        return describe_differences(self.before, self.after)


def change_history(
    database: Database, environment: str | None = None, limit: int = 50
) -> list[HistoryEntry]:
    query = sql.SQL(
        "select * from {} where %(environment)s::text is null or environment = %(environment)s"
        " order by change_id desc limit %(limit)s"
    ).format(database.relation(CHANGE_LOG))
    with database.connect() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, {"environment": environment, "limit": limit})
        rows = cur.fetchall()
    return [
        HistoryEntry(
            change_id=row["change_id"],
            change_set_id=str(row["change_set_id"]),
            provider=row["provider"],
            environment=row["environment"],
            changed_at=row["changed_at"],
            changed_by=row["changed_by"],
            changed_via=row["changed_via"],
            db_user=row["db_user"],
            reason=row["reason"],
            before=dict(row["before_values"]),
            after={name: row[name] for name in OVERRIDABLE},
        )
        for row in rows
    ]


def describe_differences(before: dict[str, object], after: dict[str, object]) -> list[str]:
    """`name old->new` for each overridable value that differs."""
    return [
        f"{name} {_fmt(before.get(name))}->{_fmt(after.get(name))}"
        for name in OVERRIDABLE
        if before.get(name) != after.get(name)
    ]


def _fmt(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)


def traffic_shares(configs: Iterable[ProviderConfig]) -> dict[tuple[str, str], float]:
    """Share of an environment's traffic each provider's weight claims (0..1)."""
    environments: dict[str, list[ProviderConfig]] = {}
    for row in configs:
        environments.setdefault(row.environment, []).append(row)
    return {
        (environment, provider): share
        for environment, rows in environments.items()
        for provider, share in _environment_shares(rows).items()
    }


def _environment_shares(rows: Sequence[ProviderConfig]) -> dict[str, float]:
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


# The roles the routing seed gives providers in `metadata` (ai_provider_config_defaults).
CANARY_ROLE = "canary"
PRIMARY_ROLE = "primary"


@dataclass(frozen=True)
class Arms:
    """The two providers a canary rollout compares, in one environment."""

    environment: str
    canary: str
    baseline: str


def _role(config: ProviderConfig) -> str | None:
    role = (config.metadata or {}).get("role")
    return role if isinstance(role, str) else None


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

    def by_role(role: str, what: str) -> str:
        named = [config.provider for config in rows if _role(config) == role]
        if len(named) == 1:
            return named[0]
        if role == PRIMARY_ROLE:  # none or several primaries: the default among them
            defaults = [config.provider for config in rows if config.is_default]
            if len(defaults) == 1 and (not named or defaults[0] in named):
                return defaults[0]
        found = ", ".join(named) if named else "none"
        raise InputRejected(
            f"no single {what} in {environment!r} (providers whose metadata role is"
            f" {role!r}: {found}); name it with --{what}"
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
    for role, given, option in (
        (CANARY_ROLE, arms.canary, "--canary"),
        (PRIMARY_ROLE, arms.baseline, "--baseline"),
    ):
        seeded = [config.provider for config in rows if _role(config) == role]
        if len(seeded) == 1 and given != seeded[0]:
            raise InputRejected(
                f"{action}: {option} {given} is not {arms.environment}'s {role}: the routing "
                f"seed names {seeded[0]} (metadata role {role!r}); {action} acts on the seeded "
                "roles only, so that it never takes traffic from the wrong provider; nothing "
                "was done"
            )
    if not any(_role(config) == CANARY_ROLE for config in rows):
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
