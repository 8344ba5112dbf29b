"""`ai-gate drill rollback`: practise the canary rollback and keep the evidence.

Steps: record the effective flags; apply the rollback through the audited change
log; verify nothing routes to the canary; restore the previous flags exactly (a new
change set, so the log shows the whole drill); verify the restore. Every step's time,
result and detail is stored in ai_rollback_drills, whatever happens.

The drill holds the routing lock from its first read to its restore: another drill,
`flags set` or a canary step waits for it. A change that does not take that lock (the
runbook's SQL) and lands between the rollback and the restore is never overwritten:
the restore is refused, the drill fails naming that change, and the flags stay as it
set them.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import psycopg
from psycopg import sql

from ai_gate.actor import default_actor
from ai_gate.database import Database
from ai_gate.errors import AiGateError, InputRejected
from ai_gate.jsonable import JsonFields
from ai_gate.rollout import actions
from ai_gate.rollout.arms import Arms, require_rollout_roles
from ai_gate.routing.change_log import FlagChange, last_change, record_changes, routing_lock
from ai_gate.routing.configuration import ProviderConfig, effective_configuration, read_effective
from ai_gate.routing.traffic import traffic_shares


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _state(configs: list[ProviderConfig]) -> dict[str, dict[str, object]]:
    return {config.provider: config.overridable_values() for config in configs}


@dataclass
class DrillEvidence(JsonFields):
    drill_id: str
    environment: str
    canary: str
    baseline: str
    run_by: str
    started_at: str
    finished_at: str = ""
    succeeded: bool = False
    before_state: dict[str, dict[str, object]] = field(default_factory=dict)
    during_state: dict[str, dict[str, object]] | None = None
    after_state: dict[str, dict[str, object]] | None = None
    steps: list[dict[str, object]] = field(default_factory=list)
    error: str | None = None

    def step(self, name: str, ok: bool, detail: str) -> None:
        self.steps.append({"step": name, "at": _now(), "ok": ok, "detail": detail})


def rollback_drill(database: Database, arms: Arms, actor: str | None = None) -> DrillEvidence:
    actor = actor or default_actor()
    # refused before anything is done or stored (and checked again under the lock)
    require_rollout_roles(effective_configuration(database, arms.environment), arms, "drill")
    evidence = DrillEvidence(
        str(uuid.uuid4()), arms.environment, arms.canary, arms.baseline, actor, _now()
    )
    label = f"rollback drill {evidence.drill_id}"
    database.refuse_transaction_pooler("session advisory locks (which serialize drills)")
    try:
        with routing_lock(database) as conn:
            _drill(database, conn, evidence, label)
    except AiGateError as exc:
        evidence.error = str(exc)
        evidence.step("error", False, str(exc))
    finally:
        evidence.finished_at = _now()
        _store(database, evidence)
    return evidence


def _drill(
    database: Database, conn: psycopg.Connection, evidence: DrillEvidence, label: str
) -> None:
    """The drill's steps, on `conn`, which holds the routing lock."""
    environment, canary, baseline, actor = (
        evidence.environment,
        evidence.canary,
        evidence.baseline,
        evidence.run_by,
    )
    # the arms were checked against the configuration before the lock; under it the
    # configuration is read again (a flag change may have come between)
    before = read_effective(conn, database, environment)
    require_rollout_roles(before, Arms(environment, canary, baseline), "drill")
    evidence.before_state = _state(before)
    evidence.step("record flags", True, f"{len(before)} providers recorded")

    changes = actions.rollback_changes(
        before, canary, baseline, f"{label}: rollback", actor, "ai-gate drill rollback"
    )
    recorded = record_changes(database, changes, conn=conn)
    evidence.step("apply rollback", True, f"change set {recorded.change_set_id}")
    # the restore goes over this change set only, never over someone else's change
    drill_change = last_change(conn, database, environment)

    during = read_effective(conn, database, environment)
    evidence.during_state = _state(during)
    share = traffic_shares(during)[(environment, canary)]
    canary_row = next(config for config in during if config.provider == canary)
    routes_nothing = (
        share == 0
        and not canary_row.is_default
        and (not canary_row.enabled or canary_row.weight == 0)
    )
    evidence.step(
        "verify rollback",
        routes_nothing,
        f"{canary}: enabled={canary_row.enabled} weight={canary_row.weight} "
        f"default={canary_row.is_default} traffic share={share:.1%}",
    )

    restore = [
        FlagChange(
            config.provider,
            environment,
            f"{label}: restore",
            actor,
            enabled=config.enabled,
            weight=config.weight,
            timeout_ms=config.timeout_ms,
            max_retries=config.max_retries,
            via="ai-gate drill rollback",
        )
        for config in before
    ]
    default = next(config.provider for config in before if config.enabled and config.is_default)
    restore.append(
        FlagChange(
            default,
            environment,
            f"{label}: restore",
            actor,
            make_default=True,
            via="ai-gate drill rollback",
        )
    )
    try:
        restored = record_changes(
            database,
            restore,
            conn=conn,
            expect_last_change_set=drill_change.change_set_id if drill_change else "",
            # exactly the traffic the drill took from the canary, given back
            confirm_traffic=True,
        )
    except InputRejected as exc:
        evidence.step("restore flags", False, f"not restored: {exc}")
        evidence.error = f"restore refused: {exc}"
        return
    evidence.step("restore flags", True, f"change set {restored.change_set_id}")

    after = read_effective(conn, database, environment)
    evidence.after_state = _state(after)
    identical = evidence.after_state == evidence.before_state
    evidence.step(
        "verify restore",
        identical,
        "flags identical to before" if identical else "flags differ from before",
    )
    evidence.succeeded = routes_nothing and identical
    if not evidence.succeeded:
        evidence.error = "verification failed"


def _store(database: Database, evidence: DrillEvidence) -> None:
    with database.connect() as conn, conn.transaction():
        conn.execute(
            sql.SQL(
                "insert into {}.{} (drill_id, environment, canary, baseline, run_by, started_at,"
                " finished_at, succeeded, before_state, during_state, after_state, steps, error)"
                " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            ).format(sql.Identifier(database.schema), sql.Identifier("ai_rollback_drills")),
            (
                evidence.drill_id,
                evidence.environment,
                evidence.canary,
                evidence.baseline,
                evidence.run_by,
                evidence.started_at,
                evidence.finished_at,
                evidence.succeeded,
                json.dumps(evidence.before_state),
                None if evidence.during_state is None else json.dumps(evidence.during_state),
                None if evidence.after_state is None else json.dumps(evidence.after_state),
                json.dumps(evidence.steps),
                evidence.error,
            ),
        )
