"""The calibration's result (rows of measured error rates, speeds and per-guardrail
traffic) and its Markdown, as docs/benchmarks.md quotes it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ai_gate_tools.calibration_model import EVAL_RUN_SAMPLES, GENERATIONS_PER_HOUR


@dataclass
class CalibrationResult:
    trials: int
    rows: list[tuple[str, str, str, str]] = field(default_factory=list)  # what, n, old, new
    # time to go at real canary shares: what, share, first build, now
    speed: list[tuple[str, str, str, str]] = field(default_factory=list)
    # each guardrail alone, a look after every row: what, share of canaries ok by then,
    # first build, now, fixed-sample optimum, ratio
    per_rule: list[tuple[str, str, str, str, str, str]] = field(default_factory=list)

    def add(self, what: str, n: str, old: str, new: str) -> None:
        self.rows.append((what, n, old, new))


def median_or_never(values: list[float]) -> str:
    middle = sorted(values)[len(values) // 2]
    return f"{middle:,.0f}" if math.isfinite(middle) else "never"


def count_or_never(value: float) -> str:
    return f"{value:,.0f}" if math.isfinite(value) else "never"


def share_of(count: int, trials: int) -> str:
    return f"{count / trials:.1%}" if trials else "n/a"


def render_markdown(result: CalibrationResult, seed: int) -> str:
    lines = [
        f"Calibration (`ai-gate bench --calibration --trials {result.trials}`, seed {seed}; "
        "prod seeds; old = point estimates over the last hour, new = the rules now):",
        "",
        "| what | eval samples per arm | old rules | new rules |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {what} | {n} | {old} | {new} |" for what, n, old, new in result.rows]
    lines += [
        "",
        f"Time to go at real canary shares ({GENERATIONS_PER_HOUR:,} generations an hour, each"
        " the canary's at the share; hourly looks for 14 days; a canary eval run of"
        f" {EVAL_RUN_SAMPLES:,} samples per arm; first build = ADR 0004's guardrails as first"
        " built, now = exact e-processes and quantile confidence sequences):",
        "",
        "| what | canary share | first build | now |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {what} | {share} | {old} | {new} |" for what, share, old, new in result.speed]
    lines += [
        "",
        "Each guardrail alone, a healthy canary, a look after every row: the rows by which"
        " half (90%) of healthy canaries are `ok`, beside the fixed-sample optimum (the least"
        " n at which the exact binomial test at the same alpha, planned for n rows and looked"
        " at once, says ok with that probability; computed exactly):",
        "",
        "| guardrail | canaries ok | first build | now | fixed-sample optimum | now / optimum |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += [f"| {' | '.join(row)} |" for row in result.per_rule]
    return "\n".join(lines) + "\n"
