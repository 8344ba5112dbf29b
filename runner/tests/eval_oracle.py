"""An independent oracle: the gate metrics computed in plain Python from JSONL."""

from __future__ import annotations

import json
import math
from pathlib import Path

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
    return result
