"""docs/eval-record.schema.json, generated from the metric registry (vars
eval_metrics in dbt_project.yml) and the record's other fields, so the published
schema cannot drift from the validator. `python -m ai_gate_tools.record_schema
--write` rewrites it; `--check` exits 1 when it is stale (the test suite runs it)."""

from __future__ import annotations

import argparse
import json
import sys

from ai_gate.dbt_project import project_dir
from ai_gate.evals.metrics import eval_metrics
from ai_gate.evals.records import MAX_SAMPLE_ID_LENGTH

PATH = "docs/eval-record.schema.json"
STRINGS = ("requested_provider", "selected_provider", "route_strategy", "case_id")


def schema() -> dict[str, object]:
    metrics = [metric for metric in eval_metrics()]
    properties: dict[str, object] = {
        "sample_id": {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_SAMPLE_ID_LENGTH,
            "description": "Unique within a run.",
        }
    }
    for metric in sorted(metrics, key=lambda m: not m.required):
        if metric.kind == "rate":
            kind = "boolean" if metric.required else ["boolean", "null"]
            properties[metric.field] = {"type": kind, "description": metric.description}
        else:
            properties[metric.field] = {
                "type": ["number", "null"],
                "minimum": 0,
                "description": metric.description,
            }
    properties.update({name: {"type": ["string", "null"]} for name in STRINGS})
    properties["prompt_template_version"] = {"type": ["string", "null"]}
    properties["created_at"] = {
        "type": ["string", "null"],
        "format": "date-time",
        "description": "ISO 8601 with a UTC offset (Z or +hh:mm).",
    }
    properties["metadata"] = {
        "type": ["object", "null"],
        "description": "Anything else about the sample.",
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://ai-gate.invalid/eval-record.schema.json",
        "title": "ai-gate evaluation record",
        "description": (
            "One line of an ai-gate eval records file (JSONL: one JSON object per line). "
            "See docs/eval-records.md. Beyond this schema, ai-gate also rejects duplicate "
            "keys in one object, NaN/Infinity, NUL characters, invalid UTF-8 and a "
            "sample_id repeated within a file."
        ),
        "type": "object",
        "additionalProperties": False,
        "required": ["sample_id", *(m.field for m in metrics if m.required)],
        "properties": properties,
    }


def render() -> str:
    return json.dumps(schema(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help=f"rewrite {PATH}")
    mode.add_argument("--check", action="store_true", help=f"exit 1 when {PATH} is stale")
    args = parser.parse_args(argv)
    path = project_dir() / PATH
    if args.write:
        path.write_text(render(), encoding="utf-8")
        return 0
    if path.read_text(encoding="utf-8") != render():
        sys.stderr.write(f"{PATH} is stale: python -m ai_gate_tools.record_schema --write\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
