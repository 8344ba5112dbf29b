"""What is generated from the metric registry (vars eval_metrics in dbt_project.yml):
docs/eval-record.schema.json (with the record's other fields), so the published schema
cannot drift from the validator, and the contract columns of the metric fields in
ai_eval_samples (a dbt contract is YAML: it names its columns), between the markers of
models/evals/_evals__models.yml. `python -m ai_gate_tools.record_schema --write`
rewrites both; `--check` exits 1 when either is stale (the test suite runs it)."""

from __future__ import annotations

import argparse
import json
import sys

from ai_gate.dbt_project import project_dir
from ai_gate.evals.metrics import eval_metrics
from ai_gate.evals.records import MAX_INTEGER_AMOUNT, MAX_SAMPLE_ID_LENGTH

PATH = "docs/eval-record.schema.json"
CONTRACT_PATH = "models/evals/_evals__models.yml"
BEGIN = (
    "      # >>> generated from vars.eval_metrics by"
    " python -m ai_gate_tools.record_schema --write\n"
)
END = "      # <<< generated\n"
STRINGS = ("requested_provider", "selected_provider", "route_strategy", "case_id", "model")


def schema() -> dict[str, object]:
    metrics = [metric for metric in eval_metrics() if metric.field]
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
        elif metric.value_type == "integer":
            properties[metric.field] = {
                "type": ["integer", "null"],
                "minimum": 0,
                "maximum": MAX_INTEGER_AMOUNT,
                "description": metric.description,
            }
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


def contract_columns() -> str:
    """ai_eval_samples' columns for the rate metrics' fields, in the sample table's
    order (required ones first), then the usage amounts' (kind mean, each >= 0)."""
    lines = []
    for required in (True, False):
        for metric in eval_metrics():
            if metric.kind != "rate" or metric.required != required:
                continue
            lines += [
                f"      - name: {metric.field}\n",
                f"        description: {json.dumps(metric.description, ensure_ascii=False)}\n",
                "        data_type: boolean\n",
            ]
            if required:
                lines += ["        constraints:\n", "          - type: not_null\n"]
    for metric in eval_metrics():
        if metric.kind != "mean":
            continue
        integer = metric.value_type == "integer"
        finite = "" if integer else " and {0} < 'infinity'::double precision"
        check = ("{0} >= 0" + finite).format(metric.field)
        lines += [
            f"      - name: {metric.field}\n",
            f"        description: {json.dumps(metric.description, ensure_ascii=False)}\n",
            f"        data_type: {'bigint' if integer else 'double precision'}\n",
            "        constraints:\n",
            "          - type: check\n",
            f'            expression: "{check}"\n',
        ]
    return "".join(lines)


def render_contract(current: str) -> str:
    """The models file with its generated section replaced."""
    if current.count(BEGIN) != 1 or current.count(END) != 1:
        raise SystemExit(f"{CONTRACT_PATH}: the generated section's markers are missing")
    head, rest = current.split(BEGIN)
    _, tail = rest.split(END)
    return head + BEGIN + contract_columns() + END + tail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help=f"rewrite {PATH}")
    mode.add_argument("--check", action="store_true", help=f"exit 1 when {PATH} is stale")
    args = parser.parse_args(argv)
    schema_path = project_dir() / PATH
    contract_path = project_dir() / CONTRACT_PATH
    contract = contract_path.read_text(encoding="utf-8")
    if args.write:
        schema_path.write_text(render(), encoding="utf-8")
        contract_path.write_text(render_contract(contract), encoding="utf-8")
        return 0
    stale = [
        path
        for path, current, wanted in (
            (PATH, schema_path.read_text(encoding="utf-8"), render()),
            (CONTRACT_PATH, contract, render_contract(contract)),
        )
        if current != wanted
    ]
    for path in stale:
        sys.stderr.write(f"{path} is stale: python -m ai_gate_tools.record_schema --write\n")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
