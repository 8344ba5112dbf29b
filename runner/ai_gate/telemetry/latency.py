"""Latency percentiles per provider, through the SQL functions the dbt project creates.

ai_latency_percentiles (histogram rollups plus the raw tail; within the configured
relative error) and ai_latency_percentiles_exact (exact percentile_cont, for audits).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ai_gate.database import Database
from ai_gate.jsonable import JsonFields
from ai_gate.telemetry.window_functions import call_over_window


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
    start, end, rows = call_over_window(database, function, since, until)
    return start, end, [LatencyRow(*row) for row in rows]
