"""`ai-gate bench --calibration`: how often the canary's decisions are wrong, and how
much traffic they cost, measured.

A seeded, deterministic simulation runs the real decision code (rules.judge) over
thousands of simulated evaluations, on the prod seeds' guardrails and triggers, beside
earlier rules kept here only for the comparison: the point-estimate rules from before
ADR 0004 (judge_point_estimates), and ADR 0004's guardrails as first built (Wilson
bounds and normal-approximation rank bounds read off a 99-point grid,
judge_first_build). No database; numpy draws the latencies.

Two models of a rollout:

- the error rates (sections 1-5): every hour the canary serves `CANARY_ROWS_PER_HOUR`
  generations and the baseline four times as many (a 20% step; the sample-ratio check
  expects exactly that share), each arm gets `n` eval samples, and a decision is taken.
  The rules now read everything since the rollout started (cumulative); the old rules
  read the last hour, as `ai-gate canary evaluate` did by default;
- the speed at real shares (section 6): `GENERATIONS_PER_HOUR` generations an hour,
  each the canary's with probability 1%, 5% or 20%, a canary eval run of
  `EVAL_RUN_SAMPLES` per arm from the start, hourly looks for 14 days; each guardrail
  alone with a look after every row, beside the exact fixed-sample optimum; and the
  exact probability (dynamic programming, `go_probability`) that a guardrail is ever
  `ok` for a canary at or just past its ceiling.

Rates are the realistic ones of `ai-gate simulate`: the baseline fails the safety
checks 0.1% of the time, is schema-valid 99.5% of the time, falls back 1% of the time,
and its latency is log-normal around 5 s. 14 days of hourly looks are 336 looks.

This is a benchmark: it prints numbers and asserts nothing about them.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable

import numpy as np

from ai_gate import stats
from ai_gate.rollout.rules import P95, judge
from ai_gate.stats import wilson_interval, z_one_sided
from ai_gate_tools.calibration_cost import cost_guardrail
from ai_gate_tools.calibration_exact import fixed_sample_rows, go_probability
from ai_gate_tools.calibration_model import (
    BASELINE_ROWS_PER_HOUR,
    CANARY_ROWS_PER_HOUR,
    GENERATIONS_PER_HOUR,
    GRID,
    HEALTHY,
    LATENCY_MEDIAN_MS,
    LATENCY_SIGMA,
    LOOKS_14_DAYS,
    PROD_POLICY,
    SHARES,
    ArmModel,
    ArmState,
    decide_now,
    median_for_p95,
    rollout_at_share,
    share_above,
)
from ai_gate_tools.calibration_old_rules import (
    first_build_p95_status,
    judge_first_build,
    judge_point_estimates,
)
from ai_gate_tools.calibration_report import (
    CalibrationResult,
    count_or_never,
    median_or_never,
    share_of,
)

Decider = Callable[[ArmState, ArmState], str]


def new_rules(canary: ArmState, baseline: ArmState) -> str:
    share = CANARY_ROWS_PER_HOUR / (CANARY_ROWS_PER_HOUR + BASELINE_ROWS_PER_HOUR)
    return judge(canary.counts(), baseline.counts(), PROD_POLICY, share)[0]


def old_rules(canary: ArmState, baseline: ArmState) -> str:
    return judge_point_estimates(canary, baseline, PROD_POLICY)


def _rollout(
    rng: np.random.Generator,
    canary_model: ArmModel,
    samples_per_look: int,
    looks: int,
    decide: Decider,
    cumulative: bool,
    with_latency: bool = True,
    stop_on: tuple[str, ...] = ("rollback", "hold", "go"),
) -> list[tuple[int, str]]:
    """(eval samples per arm so far, decision) at each look, until a decision in
    `stop_on` (a real rollout acts on it) or the last look."""
    canary, baseline = ArmState("custom", canary_model), ArmState("openai", HEALTHY)
    history = []
    for _ in range(looks):
        if not cumulative:
            canary, baseline = ArmState("custom", canary_model), ArmState("openai", HEALTHY)
        canary.add_hour(rng, CANARY_ROWS_PER_HOUR, samples_per_look, with_latency)
        baseline.add_hour(rng, BASELINE_ROWS_PER_HOUR, samples_per_look, with_latency)
        decision = decide(canary, baseline)
        history.append((canary.samples, decision))
        if decision in stop_on:
            break
    return history


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1)]


# --- time to go at real canary shares -----------------------------------------------


def decide_first_build(canary: ArmState, baseline: ArmState, share: float) -> str:
    return judge_first_build(canary, baseline, PROD_POLICY, share)


def _rows_to_ok(
    events: np.ndarray, first_build: Callable[[int, int], bool], ceiling: float
) -> tuple[float, float]:
    """Rows until a guardrail "rate of events <= ceiling" is first ok, a look after
    every row (`events[t - 1]`: did row t have one), by ADR 0004's first build and by
    the exact e-process now; inf if not within the rows given."""
    threshold = math.log(1 / PROD_POLICY.go_alpha)
    found = [math.inf, math.inf]
    count = 0
    for t in range(1, len(events) + 1):
        count += int(events[t - 1])
        if first_build(count, t) and found[0] == math.inf:  # it sees every row
            found[0] = t
        if found[1] == math.inf and stats.log_e_value_rate_below(count, t, ceiling) >= threshold:
            found[1] = t
        if all(math.isfinite(value) for value in found):
            break
    return found[0], found[1]


def _per_rule_rows(result: CalibrationResult, rng: np.random.Generator, trials: int) -> None:
    policy = PROD_POLICY
    limit = 5_000

    def wilson_ok(target: float, ceiling: float) -> Callable[[int, int], bool]:
        def ok(events: int, t: int) -> bool:
            bound = wilson_interval(
                events, t, stats.time_uniform_z_near(t, policy.go_alpha, target)
            )
            return bound is not None and bound[1] <= ceiling

        return ok

    def p95_case() -> tuple[np.ndarray, Callable[[int, int], bool]]:
        draws = LATENCY_MEDIAN_MS * np.exp(rng.normal(0.0, LATENCY_SIGMA, limit))
        values: list[float] = []

        def ok(events: int, t: int) -> bool:  # the 99-point grid of the rows so far
            bisect.insort(values, float(draws[t - 1]))
            grid = [values[max(1, math.ceil(q * t)) - 1] for q in GRID]
            return first_build_p95_status(t, grid, policy) == "ok"

        return draws > policy.max_p95_latency_ms, ok

    def rate_case(rate: float, ok: Callable[[int, int], bool]) -> Callable[[], tuple]:
        return lambda: (rng.random(limit) < rate, ok)

    p95_rate = share_above(policy.max_p95_latency_ms, HEALTHY)
    cases: list[tuple[str, float, float, Callable[[], tuple]]] = [
        (
            f"p95 latency (healthy: {p95_rate:.2%} above {policy.max_p95_latency_ms:,.0f} ms)",
            p95_rate,
            1 - P95,
            p95_case,
        ),
        (
            f"fallback rate (healthy: {HEALTHY.fallback:.0%}; ceiling"
            f" {policy.max_fallback_rate:.0%})",
            HEALTHY.fallback,
            policy.max_fallback_rate,
            rate_case(HEALTHY.fallback, wilson_ok(5_000, policy.max_fallback_rate)),
        ),
        (
            f"schema-valid rate, eval samples (healthy: {HEALTHY.schema_valid:.1%}; floor"
            f" {policy.min_schema_valid_rate:.0%})",
            1 - HEALTHY.schema_valid,
            1 - policy.min_schema_valid_rate,
            rate_case(1 - HEALTHY.schema_valid, wilson_ok(600, 1 - policy.min_schema_valid_rate)),
        ),
    ]
    for label, rate, ceiling, make in cases:
        rows = [_rows_to_ok(*make(), ceiling=ceiling) for _ in range(trials)]
        for power in (0.5, 0.9):
            first_build_rows = _percentile([row[0] for row in rows], power)
            now_rows = _percentile([row[1] for row in rows], power)
            fixed = fixed_sample_rows(rate, ceiling, policy.go_alpha, power)
            result.per_rule.append(
                (
                    label,
                    f"{power:.0%}",
                    count_or_never(first_build_rows),
                    count_or_never(now_rows),
                    f"{fixed:,}",
                    f"{now_rows / fixed:.2f}×" if math.isfinite(now_rows) else "n/a",
                )
            )


def _speed(result: CalibrationResult, rng: np.random.Generator, trials: int) -> None:
    deciders = (("first build", decide_first_build), ("now", decide_now))
    for share in SHARES:
        label = f"{share:.0%}"
        hours: dict[str, list[float]] = {"first build": [], "now": []}
        rows: dict[str, list[float]] = {"first build": [], "now": []}
        for _ in range(trials):
            for name, decide_at in deciders:
                hour, canary_rows, decision = rollout_at_share(
                    rng, share, HEALTHY, decide_at, ("go", "hold", "rollback")
                )
                went = decision == "go"
                hours[name].append(hour if went else math.inf)
                rows[name].append(canary_rows if went else math.inf)
        for what, values in (("canary rows", rows), ("hours", hours)):
            cells = [
                f"{count_or_never(_percentile(values[name], 0.5))}"
                f" ({count_or_never(_percentile(values[name], 0.9))})"
                for name, _ in deciders
            ]
            result.speed.append(
                (f"healthy canary: {what} to the first go, median (90th percentile)", label, *cells)
            )
    # a real breach, acted on at the first hold or rollback within 14 days
    breaches = {
        "p95 latency 30,000 ms (1.5× the ceiling)": ArmModel(latency_factor=median_for_p95(30_000)),
        "fallback rate 10% (2× the ceiling)": ArmModel(fallback=0.10),
        "median latency 2×": ArmModel(latency_factor=2.0),
    }
    detection_trials = max(1, trials // 2)
    for label_breach, model in breaches.items():
        for share in SHARES:
            caught: dict[str, list[float]] = {"first build": [], "now": []}
            for _ in range(detection_trials):
                for name, decide_at in deciders:
                    hour, _, decision = rollout_at_share(
                        rng, share, model, decide_at, ("go", "hold", "rollback")
                    )
                    caught[name].append(hour if decision == "hold" else math.inf)
            result.speed.append(
                (
                    f"held within 14 days: {label_breach} (median hours)",
                    f"{share:.0%}",
                    *(
                        f"{share_of(sum(math.isfinite(h) for h in caught[name]), detection_trials)}"
                        f" ({count_or_never(_percentile(caught[name], 0.5))})"
                        for name, _ in deciders
                    ),
                )
            )
    # a healthy canary over the whole 14 days: never held or rolled back (it goes on
    # being evaluated after `go`, as a rollout does at every step)
    false_trials = max(1, trials // 8)
    for share in SHARES:
        stopped = {"first build": 0, "now": 0}
        for _ in range(false_trials):
            for name, decide_at in deciders:
                _, _, decision = rollout_at_share(
                    rng, share, HEALTHY, decide_at, ("hold", "rollback")
                )
                stopped[name] += decision in ("hold", "rollback")
        result.speed.append(
            (
                "false hold or rollback of a healthy canary over 336 hourly looks",
                f"{share:.0%}",
                *(share_of(stopped[name], false_trials) for name, _ in deciders),
            )
        )


def _boundary(result: CalibrationResult) -> None:
    """P(a guardrail is ever ok) when the truth is at or just past its ceiling: exact
    (dynamic programming) for the e-processes, hourly looks at a fixed number of rows
    per hour and a look after every row."""
    policy = PROD_POLICY
    at_21000 = share_above(
        policy.max_p95_latency_ms, ArmModel(latency_factor=median_for_p95(21_000))
    )
    cases = (
        ("p95 latency exactly at the ceiling (5.0% above it)", 1 - P95, 1 - P95),
        (f"p95 latency 21,000 ms ({at_21000:.2%} above the ceiling)", at_21000, 1 - P95),
        (
            "fallback rate exactly at the ceiling (5%)",
            policy.max_fallback_rate,
            policy.max_fallback_rate,
        ),
    )
    for label, rate, ceiling in cases:
        for share in SHARES:
            per_hour = round(GENERATIONS_PER_HOUR * share)
            looks = [per_hour * hour for hour in range(1, LOOKS_14_DAYS + 1)]
            probability = go_probability(rate, ceiling, policy.go_alpha, looks)
            result.speed.append(
                (
                    f"ever ok within 14 days (exact): {label}",
                    f"{share:.0%}",
                    "",
                    f"{probability:.2%}",
                )
            )
        every_row = go_probability(rate, ceiling, policy.go_alpha, range(1, 20_001))
        result.speed.append(
            (
                f"ever ok within 20,000 rows, a look after every row (exact): {label}",
                "",
                "",
                f"{every_row:.2%}",
            )
        )


def run_calibration(trials: int = 400, seed: int = 2026) -> CalibrationResult:
    result = CalibrationResult(trials)
    rng = np.random.default_rng(seed)
    # 1. healthy canary, one evaluation of n samples per arm
    for n in (50, 250, 1000, 5000):
        counts = {"old": [0, 0], "new": [0, 0]}  # rollback, hold
        for _ in range(trials):
            for name, decide in (("old", old_rules), ("new", new_rules)):
                decision = _rollout(rng, HEALTHY, n, 1, decide, True)[-1][1]
                counts[name][0] += decision == "rollback"
                counts[name][1] += decision == "hold"
        for index, kind in ((0, "rollback"), (1, "hold")):
            result.add(
                f"false {kind}, healthy canary, one evaluation",
                f"{n:,}",
                share_of(counts["old"][index], trials),
                share_of(counts["new"][index], trials),
            )
    # 2. healthy canary, evaluated every hour for 14 days (n new samples per hour)
    rollout_trials = max(1, trials // 4)
    for n in (50, 250, 1000, 5000):
        counts = {"old": [0, 0], "new": [0, 0]}
        for _ in range(rollout_trials):
            for name, decide, cumulative in (("old", old_rules, False), ("new", new_rules, True)):
                decisions = {
                    d
                    for _, d in _rollout(
                        rng,
                        HEALTHY,
                        n,
                        LOOKS_14_DAYS,
                        decide,
                        cumulative,
                        True,
                        stop_on=("rollback", "hold"),
                    )
                }
                counts[name][0] += "rollback" in decisions
                counts[name][1] += "hold" in decisions
        for index, kind in ((0, "rollback"), (1, "hold")):
            result.add(
                f"false {kind}, healthy canary, 336 hourly looks (14 days)",
                f"{n:,}/hour",
                share_of(counts["old"][index], rollout_trials),
                share_of(counts["new"][index], rollout_trials),
            )
    # 3. time to go: 25 eval samples per arm per hour, cumulative for both rule sets
    reached = {"old": [], "new": []}
    for _ in range(trials):
        for name, decide in (("old", old_rules), ("new", new_rules)):
            history = _rollout(rng, HEALTHY, 25, 80, decide, True, stop_on=("go", "rollback"))
            samples, decision = history[-1]
            reached[name].append(samples if decision == "go" else math.inf)
    for limit in (500, 1000, 2000):
        result.add(
            "healthy canaries at `go`",
            f"by {limit:,}",
            share_of(sum(s <= limit for s in reached["old"]), trials),
            share_of(sum(s <= limit for s in reached["new"]), trials),
        )
    # 4. detection: 25 eval samples per arm per hour, acting on the first rollback/hold
    regressions = {
        "safety 99.9% -> 96.9% (3 pp)": (ArmModel(safety=0.969), ("rollback",)),
        "schema-valid 99.5% -> 97.5% (2 pp)": (ArmModel(schema_valid=0.975), ("rollback",)),
        # 1.5x is the prod tolerance itself (max_p50_latency_ratio): shown with the rest
        "median latency 1.5x (= the tolerance)": (ArmModel(latency_factor=1.5), ("hold",)),
        "median latency 2x": (ArmModel(latency_factor=2.0), ("hold",)),
        "fallback storm (20%)": (ArmModel(fallback=0.20), ("hold",)),
    }
    detection_trials = max(1, trials // 2)
    for label, (model, wanted) in regressions.items():
        for limit in (800,) if label.startswith("safety") else (2000,):
            found = {"old": [], "new": []}
            for _ in range(detection_trials):
                for name, decide in (("old", old_rules), ("new", new_rules)):
                    history = _rollout(
                        rng, model, 25, 120, decide, True, stop_on=("rollback", "hold", "go")
                    )
                    samples, decision = history[-1]
                    found[name].append(samples if decision in wanted else math.inf)
            median = {name: median_or_never(values) for name, values in found.items()}
            result.add(
                f"detected: {label}",
                f"by {limit:,}",
                share_of(sum(s <= limit for s in found["old"]), detection_trials),
                share_of(sum(s <= limit for s in found["new"]), detection_trials),
            )
            result.add(f"median samples to detect: {label}", "", median["old"], median["new"])
    # 6. the canary's speed at real shares, each guardrail alone, and the boundaries
    _speed(result, rng, trials)
    cost_guardrail(result, rng, trials)
    _per_rule_rows(result, rng, max(1, trials // 2))
    _boundary(result)
    # 5. the release gate's flake rate: true rate 0.5 pp above a 0.98 minimum, 400 samples
    threshold, true_rate, samples = 0.98, 0.985, 400
    z = z_one_sided(0.05)
    point_fail = confidence_fail = confidence_inconclusive = 0
    for _ in range(trials * 5):
        valid = int(rng.binomial(samples, true_rate))
        point_fail += valid / samples < threshold
        low, high = wilson_interval(valid, samples, z)  # type: ignore[misc]
        confidence_fail += high < threshold
        confidence_inconclusive += low < threshold <= high
    result.add(
        "release gate fails a passing model (98.5% vs min 98%)",
        f"{samples}",
        share_of(point_fail, trials * 5),
        f"{share_of(confidence_fail, trials * 5)} "
        f"(+{share_of(confidence_inconclusive, trials * 5)} inconclusive)",
    )
    return result
