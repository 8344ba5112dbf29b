"""Regenerates passing.jsonl and failing.jsonl (deterministic; seed fixed).

python examples/evals/make_examples.py
"""

from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).parent


def records(seed: int, *, schema_invalid: int, fallbacks: int, latency_median: float) -> list[dict]:
    rng = random.Random(seed)
    count = 200
    invalid = set(rng.sample(range(count), schema_invalid))
    fallback = set(rng.sample(range(count), fallbacks))
    out = []
    for index in range(count):
        provider = "custom" if index % 10 == 0 else "openai"
        used_fallback = index in fallback
        record: dict[str, object] = {
            "sample_id": f"s{seed}-{index:04d}",
            "case_id": f"case-{index % 40:03d}",
            "schema_valid": index not in invalid,
            "safety_html_tailwind_compliant": True,
            "patch_apply_success": (rng.random() < 0.96) if index % 5 < 3 else None,
            "edit_after_generate": (rng.random() < 0.4) if index % 4 else None,
            "publish_conversion": (rng.random() < 0.3) if index % 4 else None,
            "fallback_used": used_fallback,
            "latency_ms": round(rng.lognormvariate(0, 0.45) * latency_median, 1),
            "requested_provider": provider,
            "selected_provider": "openai" if used_fallback else provider,
            "route_strategy": "canary" if provider == "custom" else "weighted",
            "prompt_template_version": "sitegen-v3",
            "created_at": f"2026-11-2{index % 5}T{index % 24:02d}:00:00+00:00",
        }
        out.append(record)
    return out


def write(name: str, rows: list[dict]) -> None:
    with (HERE / name).open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    write("passing.jsonl", records(7, schema_invalid=1, fallbacks=4, latency_median=6000))
    write("failing.jsonl", records(11, schema_invalid=15, fallbacks=20, latency_median=13000))
