"""`ai-gate bench --calibration`: how often the canary's decisions are wrong, measured.

A seeded, deterministic simulation runs the real decision code (canary_rules.judge)
over thousands of simulated evaluations, beside the point-estimate rules ai-gate used
before (judge_point_estimates, kept here only for this comparison), on the prod seeds'
guardrails and triggers. No database.

The model of a rollout: every hour the canary serves `CANARY_ROWS_PER_HOUR` generations
and the baseline four times as many (a 20% step; the sample-ratio check expects
exactly that share), each arm gets `n` eval samples, and a decision is taken. The new
rules read everything since the rollout started (cumulative); the old rules read the
last hour, as `ai-gate canary evaluate` did by default. 14 days of hourly looks are
336 looks. Rates are the realistic ones of `ai-gate simulate`: the baseline fails the
safety checks 0.1% of the time, is schema-valid 99.5% of the time, falls back 1% of
the time, and its latency is log-normal around 5 s.

This is a benchmark: it prints numbers and asserts nothing about them.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from ai_gate.rollout.rules import ArmCounts, Policy, Rate, judge
from ai_gate.stats import wilson_interval, z_one_sided

LOOKS_14_DAYS = 14 * 24
CANARY_ROWS_PER_HOUR = 250
BASELINE_ROWS_PER_HOUR = 1000
BUCKETS_PER_DOUBLING = 140  # 0.5% wide latency buckets, as the rollups
LATENCY_MEDIAN_MS = 5000.0
LATENCY_SIGMA = 0.45
GRID = tuple(i / 100 for i in range(1, 100))
PROD_POLICY = Policy(
    max_fallback_rate=0.05,
    max_p95_latency_ms=20000,
    max_p50_latency_ratio=1.5,
    min_schema_valid_rate=0.97,
    min_telemetry_per_arm=200,
    min_eval_samples_per_arm=50,
    alpha=0.01,
    go_alpha=0.05,
    srm_alpha=0.001,
    triggers=(
        ("safety_regression", "safety_html_tailwind_compliance", 0.0, 1.0),
        ("schema_valid_drop", "schema_valid_rate", 1.0, 1.25),
    ),
)


@dataclass(frozen=True)
class ArmModel:
    safety: float = 0.999
    schema_valid: float = 0.995
    fallback: float = 0.01
    latency_factor: float = 1.0


HEALTHY = ArmModel()


def binomial(rng: random.Random, n: int, p: float) -> int:
    """A Binomial(n, p) draw in O(n min(p, 1-p)): count the geometric gaps between
    the rarer outcome (our rates are all near 0 or 1)."""
    if n <= 0 or p <= 0.0:
        return 0
    if p >= 1.0:
        return n
    if p > 0.5:
        return n - binomial(rng, n, 1.0 - p)
    log_q = math.log1p(-p)
    count, position = 0, 0
    while True:
        position += int(math.log(1.0 - rng.random()) / log_q) + 1
        if position > n:
            return count
        count += 1


class LatencyHistogram:
    """Counts per 0.5%-wide log bucket; quantiles read off them as the rollups do."""

    def __init__(self) -> None:
        self.counts: dict[int, int] = {}
        self.total = 0

    def add(self, rng: random.Random, rows: int, factor: float) -> None:
        median = LATENCY_MEDIAN_MS * factor
        for _ in range(rows):
            value = median * math.exp(rng.gauss(0.0, LATENCY_SIGMA))
            bucket = math.floor(math.log2(value) * BUCKETS_PER_DOUBLING)
            self.counts[bucket] = self.counts.get(bucket, 0) + 1
        self.total += rows

    def grid(self) -> list[float] | None:
        if self.total == 0:
            return None
        values, cumulative = [], 0
        targets = iter(GRID)
        target = next(targets)
        for bucket in sorted(self.counts):
            cumulative += self.counts[bucket]
            while cumulative >= target * self.total:
                values.append(2 ** ((bucket + 0.5) / BUCKETS_PER_DOUBLING))
                next_target = next(targets, None)
                if next_target is None:
                    return values
                target = next_target
        return values + [values[-1]] * (len(GRID) - len(values))


@dataclass
class ArmState:
    name: str
    model: ArmModel
    rows: int = 0
    fallbacks: int = 0
    safe: int = 0
    valid: int = 0
    samples: int = 0
    latency: LatencyHistogram = field(default_factory=LatencyHistogram)

    def add_hour(self, rng: random.Random, rows: int, samples: int, with_latency: bool) -> None:
        self.rows += rows
        self.fallbacks += binomial(rng, rows, self.model.fallback)
        self.samples += samples
        self.safe += binomial(rng, samples, self.model.safety)
        self.valid += binomial(rng, samples, self.model.schema_valid)
        if with_latency:
            self.latency.add(rng, rows, self.model.latency_factor)

    def counts(self) -> ArmCounts:
        grid = self.latency.grid()
        return ArmCounts(
            self.name,
            self.rows,
            self.rows,
            Rate(self.fallbacks, self.rows),
            self.latency.total,
            grid,
            Rate(self.safe, self.samples),
            Rate(self.valid, self.samples),
        )


def judge_point_estimates(canary: ArmCounts, baseline: ArmCounts, policy: Policy) -> str:
    """The rules before ADR 0004, for comparison: thresholds on point estimates (the
    median ratio, the p95, the rates), `inconclusive` below the minimum counts."""
    for arm in (canary, baseline):
        if arm.served_rows < policy.min_telemetry_per_arm:
            return "inconclusive"
        if arm.safety.trials < policy.min_eval_samples_per_arm:
            return "inconclusive"
    for _, metric, tolerance, _ in policy.triggers:
        attribute = "safety" if metric.startswith("safety") else "schema_valid"
        c, b = getattr(canary, attribute), getattr(baseline, attribute)
        if (b.successes / b.trials - c.successes / c.trials) * 100 > tolerance + 1e-9:
            return "rollback"
    c_grid, b_grid = canary.latency_grid or [], baseline.latency_grid or []
    fallback = canary.fallback.successes / canary.fallback.trials
    breached = (
        fallback > policy.max_fallback_rate
        or (c_grid and c_grid[94] > policy.max_p95_latency_ms)
        or (c_grid and b_grid and c_grid[49] / b_grid[49] > policy.max_p50_latency_ratio)
        or canary.schema_valid.successes / canary.schema_valid.trials < policy.min_schema_valid_rate
    )
    return "hold" if breached else "go"


Decider = Callable[[ArmState, ArmState], str]


def new_rules(canary: ArmState, baseline: ArmState) -> str:
    share = CANARY_ROWS_PER_HOUR / (CANARY_ROWS_PER_HOUR + BASELINE_ROWS_PER_HOUR)
    return judge(canary.counts(), baseline.counts(), PROD_POLICY, share)[0]


def old_rules(canary: ArmState, baseline: ArmState) -> str:
    return judge_point_estimates(canary.counts(), baseline.counts(), PROD_POLICY)


def _rollout(
    rng: random.Random,
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


@dataclass
class CalibrationResult:
    trials: int
    rows: list[tuple[str, str, str, str]] = field(default_factory=list)  # what, n, old, new

    def add(self, what: str, n: str, old: str, new: str) -> None:
        self.rows.append((what, n, old, new))


def _median(values: list[float]) -> str:
    middle = sorted(values)[len(values) // 2]
    return f"{middle:,.0f}" if math.isfinite(middle) else "never"


def _share(count: int, trials: int) -> str:
    return f"{count / trials:.1%}" if trials else "n/a"


def run_calibration(trials: int = 400, seed: int = 2026) -> CalibrationResult:
    result = CalibrationResult(trials)
    rng = random.Random(seed)
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
                _share(counts["old"][index], trials),
                _share(counts["new"][index], trials),
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
                _share(counts["old"][index], rollout_trials),
                _share(counts["new"][index], rollout_trials),
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
            _share(sum(s <= limit for s in reached["old"]), trials),
            _share(sum(s <= limit for s in reached["new"]), trials),
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
            median = {name: _median(values) for name, values in found.items()}
            result.add(
                f"detected: {label}",
                f"by {limit:,}",
                _share(sum(s <= limit for s in found["old"]), detection_trials),
                _share(sum(s <= limit for s in found["new"]), detection_trials),
            )
            result.add(f"median samples to detect: {label}", "", median["old"], median["new"])
    # 5. the release gate's flake rate: true rate 0.5 pp above a 0.98 minimum, 400 samples
    threshold, true_rate, samples = 0.98, 0.985, 400
    z = z_one_sided(0.05)
    point_fail = confidence_fail = confidence_inconclusive = 0
    for _ in range(trials * 5):
        valid = binomial(rng, samples, true_rate)
        point_fail += valid / samples < threshold
        low, high = wilson_interval(valid, samples, z)  # type: ignore[misc]
        confidence_fail += high < threshold
        confidence_inconclusive += low < threshold <= high
    result.add(
        "release gate fails a passing model (98.5% vs min 98%)",
        f"{samples}",
        _share(point_fail, trials * 5),
        f"{_share(confidence_fail, trials * 5)} "
        f"(+{_share(confidence_inconclusive, trials * 5)} inconclusive)",
    )
    return result


def render_markdown(result: CalibrationResult, seed: int) -> str:
    lines = [
        f"Calibration (`ai-gate bench --calibration --trials {result.trials}`, seed {seed}; "
        "prod seeds; old = point estimates over the last hour, new = ADR 0004):",
        "",
        "| what | eval samples per arm | old rules | new rules |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {what} | {n} | {old} | {new} |" for what, n, old, new in result.rows]
    return "\n".join(lines) + "\n"
