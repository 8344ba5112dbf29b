"""The canary rules ai-gate ran before, kept only so that the calibration
(calibration.py) can measure the rules of today beside them: the point-estimate rules
from before ADR 0004 (judge_point_estimates), and ADR 0004's guardrails as first built
(Wilson bounds and normal-approximation rank bounds read off a 99-point grid,
judge_first_build)."""

from __future__ import annotations

import math
from dataclasses import replace

from ai_gate import stats
from ai_gate.rollout.rule_types import Policy, Rate
from ai_gate.rollout.rules import P95, judge
from ai_gate.rollout.rules import decide as decision_of
from ai_gate.stats import wilson_interval
from ai_gate_tools.calibration_model import (
    ArmState,
)


def judge_point_estimates(canary: ArmState, baseline: ArmState, policy: Policy) -> str:
    """The rules before ADR 0004, for comparison: thresholds on point estimates (the
    median ratio, the p95, the rates), `inconclusive` below the minimum counts."""
    for arm in (canary, baseline):
        if arm.rows < policy.min_telemetry_per_arm:
            return "inconclusive"
        if arm.samples < policy.min_eval_samples_per_arm:
            return "inconclusive"
    for _, metric, tolerance, _ in policy.triggers:
        c, b = (
            (canary.safe, baseline.safe)
            if metric.startswith("safety")
            else (canary.valid, baseline.valid)
        )
        if (b / baseline.samples - c / canary.samples) * 100 > tolerance + 1e-9:
            return "rollback"
    c_grid, b_grid = canary.latency.grid() or [], baseline.latency.grid() or []
    fallback = canary.fallbacks / canary.rows
    breached = (
        fallback > policy.max_fallback_rate
        or (c_grid and c_grid[94] > policy.max_p95_latency_ms)
        or (c_grid and b_grid and c_grid[49] / b_grid[49] > policy.max_p50_latency_ratio)
        or canary.valid / canary.samples < policy.min_schema_valid_rate
    )
    return "hold" if breached else "go"


# --- ADR 0004 as first built (kept only for "old beside new") ---------------------------
# Rates by Wilson bounds at a normal-mixture time-uniform z; latency quantiles by a
# normal approximation of the binomial rank at that z, read off the 99-point grid.


def _rank_fractions(quantile: float, samples: int, z: float) -> tuple[float, float]:
    spread = z * math.sqrt(samples * quantile * (1 - quantile)) + 0.5
    return (quantile * samples - spread) / samples, (quantile * samples + spread) / samples


def _grid_value(grid: list[float] | None, fraction: float, side: str) -> float | None:
    if not grid:
        return None
    position = fraction * (len(grid) + 1)
    index = math.floor(position + 1e-9) if side == "lower" else math.ceil(position - 1e-9)
    return grid[index - 1] if 1 <= index <= len(grid) else None


def _status(breach: float | None, go: float | None, ceiling: float) -> str:
    if breach is not None and breach > ceiling:
        return "breached"
    return "ok" if go is not None and go <= ceiling else "undecided"


def _first_build_rate(rate: Rate, ceiling: float, policy: Policy, target: float) -> str:
    """Status of `events <= ceiling` by Wilson bounds (events = rate.successes)."""
    if rate.trials == 0:
        return "insufficient"
    hold = wilson_interval(
        rate.successes,
        rate.trials,
        stats.time_uniform_z_near(rate.trials, policy.hold_alpha, target),
    )
    go = wilson_interval(
        rate.successes, rate.trials, stats.time_uniform_z_near(rate.trials, policy.go_alpha, target)
    )
    assert hold is not None and go is not None
    return _status(hold[0], go[1], ceiling)


def first_build_p95_status(samples: int, grid: list[float] | None, policy: Policy) -> str:
    n = max(samples, 1)
    low, _ = _rank_fractions(P95, n, stats.time_uniform_z_near(n, policy.hold_alpha, 5_000))
    _, high = _rank_fractions(P95, n, stats.time_uniform_z_near(n, policy.go_alpha, 5_000))
    return _status(
        _grid_value(grid, low, "lower"),
        _grid_value(grid, high, "upper"),
        policy.max_p95_latency_ms,
    )


def judge_first_build(canary: ArmState, baseline: ArmState, policy: Policy, share: float) -> str:
    """The decision with the guardrails of ADR 0004's first build in place of the
    exact ones (the minimums, sample ratio and rollback triggers are unchanged)."""
    _, rules = judge(canary.counts(policy), baseline.counts(policy), policy, share)
    c_grid, b_grid = canary.latency.grid(), baseline.latency.grid()
    n = max(min(canary.latency.total, baseline.latency.total), 1)
    z_hold, z_go = (
        stats.time_uniform_z_near(n, policy.hold_alpha, 5_000),
        stats.time_uniform_z_near(n, policy.go_alpha, 5_000),
    )
    c_low = _grid_value(c_grid, _rank_fractions(0.5, canary.latency.total, z_hold)[0], "lower")
    b_high = _grid_value(b_grid, _rank_fractions(0.5, baseline.latency.total, z_hold)[1], "upper")
    c_high = _grid_value(c_grid, _rank_fractions(0.5, canary.latency.total, z_go)[1], "upper")
    b_low = _grid_value(b_grid, _rank_fractions(0.5, baseline.latency.total, z_go)[0], "lower")
    statuses = {
        "max_fallback_rate": _first_build_rate(
            Rate(canary.fallbacks, canary.rows), policy.max_fallback_rate, policy, 5_000
        ),
        "min_schema_valid_rate": _first_build_rate(
            Rate(canary.samples - canary.valid, canary.samples),
            1 - policy.min_schema_valid_rate,
            policy,
            600,
        ),
        "max_p95_latency_ms": first_build_p95_status(canary.latency.total, c_grid, policy),
        "max_p50_latency_ratio": _status(
            c_low / b_high if c_low is not None and b_high else None,
            c_high / b_low if c_high is not None and b_low else None,
            policy.max_p50_latency_ratio,
        ),
    }
    rules = [
        replace(rule, status=statuses[rule.name]) if rule.name in statuses else rule
        for rule in rules
    ]
    return decision_of(rules)
