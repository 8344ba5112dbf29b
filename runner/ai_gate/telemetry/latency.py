"""Latency percentiles per provider, through the SQL functions the dbt project creates.

ai_latency_percentiles (histogram rollups plus the raw tail; within the configured
relative error) and ai_latency_percentiles_exact (exact percentile_cont, for audits).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from psycopg import sql

from ai_gate.database import Database
from ai_gate.errors import NotBuilt
from ai_gate.jsonable import JsonFields


@dataclass(frozen=True)
class LatencyRow(JsonFields):
    selected_provider: str | None
    requests: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


def percentiles(
    database: Database, since: timedelta, until: datetime | None = None, exact: bool = False
) -> tuple[datetime, datetime, list[LatencyRow]]:
    function = "ai_latency_percentiles_exact" if exact else "ai_latency_percentiles"
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
    return start, end, [LatencyRow(*row) for row in rows]
