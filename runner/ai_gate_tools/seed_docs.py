"""Tables in the docs generated from the seeds, so documents cannot drift from config.

A document marks a generated block with
    <!-- generated:NAME -->
    ...
    <!-- /generated:NAME -->
`python -m ai_gate_tools.seed_docs --write` rewrites every block; `--check` exits 1 when a
block is stale (the test suite runs the check).
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections.abc import Callable

from ai_gate.dbt_project import project_dir

DOCUMENTS = (
    "docs/adr/0001-provider-routing-rollout.md",
    "docs/runbook/on-call.md",
    "docs/eval-gates.md",
)
BLOCK = re.compile(
    r"(<!-- generated:(?P<name>[a-z_]+) -->\n)(?P<body>.*?)(<!-- /generated:(?P=name) -->)",
    re.DOTALL,
)


def _rows(name: str) -> list[dict[str, str]]:
    with (project_dir() / "seeds" / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _markdown(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def guardrails() -> str:
    rows = _rows("ai_canary_guardrails")
    return _markdown(
        [
            "environment",
            "max fallback rate",
            "max p95 latency (ms)",
            "max p50 latency ratio (canary/baseline)",
            "min schema-valid rate",
            "min telemetry rows per arm",
            "min eval samples per arm",
            "alpha (false rollback or hold, whole rollout)",
            "go alpha",
            "sample-ratio alpha",
            "max p50 cost ratio (canary/baseline)",
            "cost data required",
        ],
        [
            [
                r["environment"],
                r["max_fallback_rate"],
                r["max_p95_latency_ms"],
                r["max_p50_latency_ratio"],
                r["min_schema_valid_rate"],
                r["min_telemetry_per_arm"],
                r["min_eval_samples_per_arm"],
                r["alpha"],
                r["go_alpha"],
                r["srm_alpha"],
                r["max_cost_ratio"] or "none",
                r["require_cost"],
            ]
            for r in rows
        ],
    )


def rollback_triggers() -> str:
    rows = _rows("ai_canary_rollback_triggers")
    return _markdown(
        [
            "environment",
            "trigger",
            "metric",
            "rolls back when the canary is shown below the baseline by more than (pp)",
            "go needs the drop shown below (pp)",
        ],
        [
            [r["environment"], r["trigger_name"], r["metric"], r["max_drop_pp"], r["go_margin_pp"]]
            for r in rows
        ],
    )


def rollout_plan() -> str:
    plans: dict[tuple[str, str], list[str]] = {}
    for row in _rows("ai_canary_rollout_plan"):
        key = (row["environment"], row["canary"])
        plans.setdefault(key, []).append(row["canary_percent"] + "%")
    return _markdown(
        ["environment", "canary", "canary share of traffic, step by step"],
        [[env, canary, " → ".join(steps)] for (env, canary), steps in plans.items()],
    )


def eval_thresholds() -> str:
    by_gate: dict[str, dict[str, str]] = {}
    for row in _rows("ai_eval_thresholds"):
        by_gate.setdefault(row["gate"], {})[row["environment"]] = row["threshold"] or "off"
    environments = sorted({env for values in by_gate.values() for env in values})
    return _markdown(
        ["gate", *environments],
        [
            [f"`{gate}`", *(values.get(env, "—") for env in environments)]
            for gate, values in by_gate.items()
        ],
    )


GENERATORS: dict[str, Callable[[], str]] = {
    "guardrails": guardrails,
    "rollback_triggers": rollback_triggers,
    "rollout_plan": rollout_plan,
    "eval_thresholds": eval_thresholds,
}


def render(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group("name")
        if name not in GENERATORS:
            raise KeyError(f"unknown generated block {name!r}")
        return f"{match.group(1)}{GENERATORS[name]()}{match.group(4)}"

    return BLOCK.sub(replace, text)


def stale_documents() -> list[str]:
    stale = []
    for relative in DOCUMENTS:
        path = project_dir() / relative
        text = path.read_text(encoding="utf-8")
        if render(text) != text:
            stale.append(relative)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ai_gate_tools.seed_docs", description=__doc__)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true")
    mode.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_documents()
        for relative in stale:
            sys.stderr.write(
                f"{relative}: generated tables are out of date with the seeds; "
                "run python -m ai_gate_tools.seed_docs --write\n"
            )
        return 1 if stale else 0
    for relative in DOCUMENTS:
        path = project_dir() / relative
        path.write_text(render(path.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
