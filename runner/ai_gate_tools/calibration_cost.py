"""The calibration's rows for the canary's cost guardrail (prod's max_cost_ratio, a
ratio of medians; ADR 0004's amendment) at real canary shares."""

from __future__ import annotations

import math

import numpy as np

from ai_gate_tools.calibration_model import (
    COSTED_BASELINE,
    HEALTHY,
    SHARES,
    ArmModel,
    decide_now,
    rollout_at_share,
)
from ai_gate_tools.calibration_report import CalibrationResult, count_or_never, share_of


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1)]


def cost_guardrail(result: CalibrationResult, rng: np.random.Generator, trials: int) -> None:
    """The cost guardrail (prod's max_cost_ratio, a ratio of medians) at real shares: a
    canary at its baseline's cost (the ceiling itself) held falsely over 14 days, a
    canary at 2x held, and how soon; ADR 0004's first build had no cost rule (n/a)."""
    false_trials = max(1, trials // 8)
    for share in SHARES:
        held = 0
        for _ in range(false_trials):
            _, _, decision = rollout_at_share(
                rng,
                share,
                COSTED_BASELINE,
                decide_now,
                ("hold", "rollback"),
                baseline_model=COSTED_BASELINE,
            )
            held += decision == "hold"
        result.speed.append(
            (
                "false hold of a canary at its baseline's cost (= prod's ceiling 1.0), "
                "336 hourly looks",
                f"{share:.0%}",
                "n/a",
                share_of(held, false_trials),
            )
        )
    detection_trials = max(1, trials // 2)
    for share in SHARES:
        caught = []
        for _ in range(detection_trials):
            hour, _, decision = rollout_at_share(
                rng,
                share,
                ArmModel(cost_factor=2.0),
                decide_now,
                ("go", "hold", "rollback"),
                baseline_model=COSTED_BASELINE,
            )
            caught.append(hour if decision == "hold" else math.inf)
        result.speed.append(
            (
                "held within 14 days: cost per generation 2× (median hours)",
                f"{share:.0%}",
                "n/a",
                f"{share_of(sum(math.isfinite(h) for h in caught), detection_trials)}"
                f" ({count_or_never(_percentile(caught, 0.5))})",
            )
        )
    # a canary at half its baseline's cost (why the custom canary exists) goes as soon
    # as one that reports no cost: the cost rule shows its go bound first
    for share in SHARES:
        hours: dict[str, list[float]] = {"no cost data": [], "half the cost": []}
        for _ in range(detection_trials):
            for name, model, baseline in (
                ("no cost data", HEALTHY, HEALTHY),
                ("half the cost", ArmModel(cost_factor=0.5), COSTED_BASELINE),
            ):
                hour, _, decision = rollout_at_share(
                    rng,
                    share,
                    model,
                    decide_now,
                    ("go", "hold", "rollback"),
                    baseline_model=baseline,
                )
                hours[name].append(hour if decision == "go" else math.inf)
        result.speed.append(
            (
                "healthy canary: hours to the first go, median, reporting no cost / at "
                "half its baseline's cost",
                f"{share:.0%}",
                "n/a",
                f"{count_or_never(_percentile(hours['no cost data'], 0.5))} / "
                f"{count_or_never(_percentile(hours['half the cost'], 0.5))}",
            )
        )
