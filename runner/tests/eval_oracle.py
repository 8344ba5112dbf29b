"""An independent oracle: the gate metrics computed in plain Python from JSONL."""

from __future__ import annotations

import csv
import json
import math
from datetime import UTC, datetime
from pathlib import Path

PRICES = Path(__file__).parents[2] / "seeds" / "ai_provider_prices.csv"

RATE_FIELDS = {
    "schema_valid_rate": "schema_valid",
    "patch_apply_success": "patch_apply_success",
    "edit_after_generate_rate": "edit_after_generate",
    "publish_conversion_proxy": "publish_conversion",
    "safety_html_tailwind_compliance": "safety_html_tailwind_compliant",
    "fallback_rate": "fallback_used",
}
Z = 1.959963984540054


def percentile_cont(values: list[float], fraction: float) -> float | None:
    """PostgreSQL's percentile_cont: linear interpolation at position fraction*(n-1)."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    lower = math.floor(position)
    upper = math.ceil(position)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def wilson(successes: int, trials: int) -> tuple[float | None, float | None]:
    if trials == 0:
        return None, None
    p = successes / trials
    denominator = 1 + Z * Z / trials
    centre = p + Z * Z / (2 * trials)
    half = Z * math.sqrt(p * (1 - p) / trials + Z * Z / (4 * trials * trials))
    return (centre - half) / denominator, (centre + half) / denominator


def price_table() -> list[dict]:
    with PRICES.open() as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        row["effective_from"] = datetime.fromisoformat(row["effective_from"])
    return rows


def priced(
    prices: list[dict], provider: str | None, model: str | None, at: datetime, i: int, o: int
) -> float | None:
    """The price seed's rule, restated: the provider and model's row, else its `*` row,
    the latest in force at `at`; the tokens at it."""
    for wanted in (model, "*"):
        rows = [
            p
            for p in prices
            if p["provider"] == provider and p["model"] == wanted and p["effective_from"] <= at
        ]
        if rows:
            row = max(rows, key=lambda p: p["effective_from"])
            return (
                i * float(row["usd_per_million_input_tokens"])
                + o * float(row["usd_per_million_output_tokens"])
            ) / 1e6
    return None


def known_cost(prices: list[dict], record: dict, at: datetime) -> float | None:
    """Recorded, else both token counts priced, else unknown (never 0)."""
    if record.get("cost_usd") is not None:
        return float(record["cost_usd"])
    i, o = record.get("input_tokens"), record.get("output_tokens")
    if i is None or o is None:
        return None
    return priced(prices, record.get("selected_provider"), record.get("model"), at, i, o)


def johnson(values: list[float]) -> tuple[float | None, float | None]:
    """Johnson's skewness-corrected 95% interval for a mean."""
    n = len(values)
    if n < 2:
        return None, None
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    if sd == 0:
        return mean, mean
    m3 = sum((v - mean) ** 3 for v in values) / n
    centre = mean + m3 / (6 * sd * sd * n)
    return centre - Z * sd / math.sqrt(n), centre + Z * sd / math.sqrt(n)


def expected_metrics(path: Path) -> dict[str, object]:
    records = [json.loads(text) for text in path.read_text().splitlines() if text.strip()]
    result: dict[str, object] = {"sample_count": len(records)}
    for metric, field in RATE_FIELDS.items():
        values = [record[field] for record in records if record.get(field) is not None]
        result[metric] = sum(values) / len(values) if values else None
        result[f"{metric}_count"] = len(values)
        result[f"{metric}_ci"] = wilson(sum(values), len(values))
    latencies = [float(r["latency_ms"]) for r in records if r.get("latency_ms") is not None]
    result["p95_latency_ms"] = percentile_cont(latencies, 0.95)
    result["p95_latency_ms_count"] = len(latencies)
    # case_pass_k: the lowest (passes / attempts) ** attempts over the cases a provider
    # tried more than once; an attempt passes with no error and no check false (the
    # checks of the output: not the user's edits or publishes, nor fallbacks)
    checks = ["schema_valid", "patch_apply_success", "safety_html_tailwind_compliant"]
    attempts: dict[tuple[object, object], list[bool]] = {}
    for record in records:
        if record.get("case_id") is None:
            continue
        passed = "error" not in (record.get("metadata") or {}) and all(
            record.get(field) is not False for field in checks
        )
        attempts.setdefault((record["case_id"], record.get("selected_provider")), []).append(passed)
    repeated = [tries for tries in attempts.values() if len(tries) > 1]
    result["case_pass_k"] = min((sum(t) / len(t)) ** len(t) for t in repeated) if repeated else None
    result["case_pass_k_count"] = len(repeated)
    # usage: the mean of each amount present; a cost known (recorded or priced now)
    prices, now = price_table(), datetime.now(UTC)
    costs = [known_cost(prices, record, now) for record in records]
    amounts = {
        "mean_input_tokens": [
            r["input_tokens"] for r in records if r.get("input_tokens") is not None
        ],
        "mean_output_tokens": [
            r["output_tokens"] for r in records if r.get("output_tokens") is not None
        ],
        "mean_cost_usd": [cost for cost in costs if cost is not None],
    }
    for metric, values in amounts.items():
        result[metric] = sum(values) / len(values) if values else None
        result[f"{metric}_count"] = len(values)
        result[f"{metric}_ci"] = johnson([float(v) for v in values])
    passes = [
        "error" not in (record.get("metadata") or {})
        and all(record.get(field) is not False for field in checks)
        for record in records
    ]
    costed = [
        (cost, passed) for cost, passed in zip(costs, passes, strict=True) if cost is not None
    ]
    costed_passes = sum(passed for _, passed in costed)
    result["cost_per_pass_usd"] = (
        sum(cost for cost, _ in costed) / costed_passes if costed_passes else None
    )
    result["cost_per_pass_usd_count"] = len(costed)
    result["cost_ratio"] = None  # no baseline run
    result["cost_ratio_count"] = 0
    return result
