"""Tokens and cost per provider over a window, through ai_usage_by_provider (the usage
rollups plus the raw rows newer than them; the build creates it).

A generation's cost is what it recorded, else its tokens at the provider's price for its
model on its day (seed ai_provider_prices), else unknown: unknown costs are counted, never
summed as zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ai_gate.database import Database
from ai_gate.jsonable import JsonFields
from ai_gate.telemetry.window_functions import call_over_window

FUNCTION = "ai_usage_by_provider"


@dataclass(frozen=True)
class UsageRow(JsonFields):
    selected_provider: str | None
    generations: int
    token_generations: int
    mean_input_tokens: float | None
    mean_output_tokens: float | None
    p50_tokens: float | None
    p95_tokens: float | None
    cost_generations: int
    priced_generations: int
    unknown_cost_generations: int
    cost_usd: float | None
    mean_cost_usd: float | None
    fallback_generations: int
    fallback_cost_usd: float | None
    mean_fallback_cost_usd: float | None


def by_provider(
    database: Database, since: timedelta, until: datetime | None = None
) -> tuple[datetime, datetime, list[UsageRow]]:
    start, end, rows = call_over_window(database, FUNCTION, since, until)
    return start, end, [UsageRow(*row) for row in rows]
