"""Calling one of the SQL functions the build creates over a window of telemetry ending
now (ai_latency_percentiles, ai_usage_by_provider, ...): `fn(since, until)`."""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg
from psycopg import sql

from ai_gate.database import Database
from ai_gate.errors import NotBuilt


def call_over_window(
    database: Database, function: str, since: timedelta, until: datetime | None = None
) -> tuple[datetime, datetime, list[tuple]]:
    """The window's start and end (ending at the database's now() unless given) and the
    function's rows over it; a function the build has not created is NotBuilt."""
    with database.connect() as conn:
        try:
            end = until or conn.execute("select now()").fetchone()[0]  # type: ignore[index]
            start = end - since
            rows = conn.execute(
                sql.SQL("select * from {}.{}(%s, %s)").format(
                    sql.Identifier(database.schema), sql.Identifier(function)
                ),
                (start, end),
            ).fetchall()
        except psycopg.errors.UndefinedFunction as exc:
            raise NotBuilt(
                f"{database.schema}.{function} does not exist on {database.describe()}: run "
                f"`ai-gate build` first"
            ) from exc
    return start, end, rows
