"""The release dossier: each routing change with the canary decision in force when it
was made, the eval runs that decision read and the last drill before it, as the view
ai_release_dossier joins them (the one statement of those links)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from psycopg import sql
from psycopg.rows import dict_row

from ai_gate.database import Database
from ai_gate.jsonable import JsonFields


@dataclass(frozen=True)
class DossierEntry(JsonFields):
    change_set_id: str
    environment: str
    first_change_id: int
    changed_at: datetime
    changed_by: str
    changed_via: str
    reason: str
    changes: list[dict[str, object]]  # change_id, provider, enabled, is_default, weight, before
    decision_id: int | None
    decision: str | None
    decided_at: datetime | None
    canary: str | None
    baseline: str | None
    decision_rules: list[dict[str, object]] | None
    eval_runs: list[dict[str, object]]  # run_id, samples, status, source_file, source_sha256
    drill_id: str | None
    drill_finished_at: datetime | None
    drill_succeeded: bool | None


def read_dossier(
    database: Database, environment: str, since: timedelta
) -> tuple[datetime, datetime, list[DossierEntry]]:
    """The environment's routing changes in the window ending now, newest first."""
    with database.connect() as conn:
        end = conn.execute("select now()").fetchone()[0]  # type: ignore[index]
        start = end - since
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute(
                sql.SQL(
                    "select * from {} where environment = %s and changed_at >= %s"
                    " order by changed_at desc, first_change_id desc"
                ).format(database.relation("ai_release_dossier")),
                (environment, start),
            )
            rows = cur.fetchall()
    entries = [
        DossierEntry(**{**row, "change_set_id": str(row["change_set_id"]), "drill_id": (
            None if row["drill_id"] is None else str(row["drill_id"])
        )})
        for row in rows
    ]  # fmt: skip
    return start, end, entries


def change_links(
    database: Database, environment: str, since: datetime
) -> dict[int, tuple[int | None, str | None]]:
    """For each change of the environment since `since`: the decision in force when it
    was made and the last drill before it (the HTML report links its rows by them)."""
    with database.connect() as conn:
        rows = conn.execute(
            sql.SQL(
                "select (change ->> 'change_id')::bigint, decision_id, drill_id::text"
                " from {}, jsonb_array_elements(changes) as change"
                " where environment = %s and changed_at >= %s"
            ).format(database.relation("ai_release_dossier")),
            (environment, since),
        ).fetchall()
    return {int(change_id): (decision_id, drill_id) for change_id, decision_id, drill_id in rows}
