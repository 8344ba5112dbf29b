"""The change log: audited flag changes appended to `ai_provider_config_changes` (one
change set per command, checked against the routing invariants and the traffic rule
first, written in one transaction under the routing lock and a table lock), and the
history read back."""

from __future__ import annotations

import json
import shlex
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from ai_gate.database import Database
from ai_gate.errors import InputRejected, RuntimeFailure
from ai_gate.jsonable import JsonFields
from ai_gate.routing.configuration import (
    OVERRIDABLE,
    ProviderConfig,
    in_display_order,
    invariant_violations,
    read_effective,
    unknown_environment,
)
from ai_gate.routing.traffic import CONFIRM_TRAFFIC_OPTION, TrafficMove, traffic_move
from ai_gate.safe_text import is_unsafe_character, printable

CHANGE_LOG = "ai_provider_config_changes"
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


@dataclass(frozen=True)
class ChangePlan:
    """Changes worked out from the environment's configuration as it is under the
    routing lock (a rollback, a canary step): `make` is given the change's connection
    and that configuration, read once in its transaction, and returns the changes."""

    environment: str
    make: Callable[[psycopg.Connection, list[ProviderConfig]], Sequence[FlagChange]]


@dataclass(frozen=True)
class RecordedChange:
    change_set_id: str | None
    rows: list[tuple[ProviderConfig, ProviderConfig]]  # (before, after) per provider
    traffic: TrafficMove | None = None
    # the environment's configuration as its transaction left it (what the product
    # reads from then on: the changed providers with the change-log rows just written)
    configs: list[ProviderConfig] = field(default_factory=list)

    @property
    def recorded(self) -> bool:
        return bool(self.rows)


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
    changes: Sequence[FlagChange] | ChangePlan,
    *,
    conn: psycopg.Connection | None = None,
    expect_last_change_set: str | None = None,
    confirm_traffic: bool = False,
) -> RecordedChange:
    """Apply several changes to one environment as one audited change set.

    They are applied in order to the effective configuration (read once, under the
    lock; a ChangePlan works its changes out from that read), the result is checked
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
    changes: Sequence[FlagChange] | ChangePlan,
    expect_last_change_set: str | None,
    confirm_traffic: bool,
) -> RecordedChange:
    plan = changes if isinstance(changes, ChangePlan) else None
    environment = plan.environment if plan else _one_environment(changes)  # type: ignore[arg-type]
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
        if plan is not None:
            changes = list(plan.make(conn, current))
            if _one_environment(changes) != environment:
                raise ValueError("a change plan covers its own environment")
        providers = [row.provider for row in current]
        proposed = list(current)
        for change in changes:  # type: ignore[union-attr]
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
            raise _unconfirmed(move, changes)  # type: ignore[arg-type]
        pairs = [
            (before, after)
            for before, after in zip(current, proposed, strict=True)
            if before.overridable_values() != after.overridable_values()
        ]
        if not pairs:
            return RecordedChange(None, [], move, current)
        change_set_id = str(uuid.uuid4())
        last = changes[-1]  # type: ignore[index]
        if move.needs_confirmation:  # acknowledged: the log says so
            last = replace(last, via=f"{last.via} {CONFIRM_TRAFFIC_OPTION}")
        written = _insert_change_rows(conn, database, change_set_id, last, pairs)
        after = in_display_order([written.get(config.provider, config) for config in proposed])
        return RecordedChange(change_set_id, pairs, move, after)


def _one_environment(changes: Sequence[FlagChange]) -> str:
    """The one environment a change set covers; its values checked before anything."""
    if not changes:
        raise ValueError("no changes")
    environment = changes[0].environment
    if any(change.environment != environment for change in changes):
        raise ValueError("one change set covers one environment")
    for change in changes:
        _check_change_values(change)
    return environment


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
) -> dict[str, ProviderConfig]:
    """One change-log row per provider whose values changed, in one change set; each
    changed provider's configuration with the row written (the newest of its rows, so
    the one ai_provider_configs now shows)."""
    reason, actor, via = change.reason.strip(), change.actor.strip(), change.via
    insert = sql.SQL(
        "insert into {} (change_set_id, provider, environment, enabled, is_default, weight,"
        " timeout_ms, max_retries, reason, changed_by, changed_via, before_values)"
        " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " returning change_id, changed_at, changed_by, reason"
    ).format(database.relation(CHANGE_LOG))
    written: dict[str, ProviderConfig] = {}
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
            returning=True,
        )
        for _, after in pairs:
            change_id, changed_at, changed_by, written_reason = cur.fetchone()  # type: ignore[misc]
            written[after.provider] = replace(
                after,
                last_change_id=change_id,
                last_changed_at=changed_at,
                last_changed_by=changed_by,
                last_change_reason=written_reason,
            )
            cur.nextset()
    return written


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
