"""The calibration's model of a rollout (calibration.py): the arms' rates, their
latencies as a histogram of the rollups' buckets, and the prod policy as the seeds give
it. Seeded numpy draws; nothing of the database."""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ai_gate import stats
from ai_gate.dbt_project import project_dir
from ai_gate.rollout.rule_types import NO_AMOUNTS, Amounts, ArmCounts, Latency, Policy, Rate
from ai_gate.rollout.rules import P95, judge, latency_ranks, median_ranks
from ai_gate.stats import z_one_sided

LOOKS_14_DAYS = 14 * 24
CANARY_ROWS_PER_HOUR = 250
BASELINE_ROWS_PER_HOUR = 1000
BUCKETS_PER_DOUBLING = 140  # 0.5% wide latency buckets, as the rollups
LOWEST_BUCKET = 0  # 1 ms
HIGHEST_BUCKET = 20 * BUCKETS_PER_DOUBLING  # about 17 minutes
LATENCY_MEDIAN_MS = 5000.0
LATENCY_SIGMA = 0.45
GRID = tuple(i / 100 for i in range(1, 100))
# Real canary shares: prod's seeded first step (1%), and two later ones.
GENERATIONS_PER_HOUR = 4_000
SHARES = (0.01, 0.05, 0.20)
EVAL_RUN_SAMPLES = 2_000  # a canary eval run, per arm, there from the first look
# A generation's cost: log-normal about gpt-4o's list price for a typical page (the
# simulate command's), kept in micro-dollars so the rollups' log buckets hold it.
COST_MEDIAN_MICRO_USD = 13_400.0
COST_SIGMA = 0.5


def seeded_policy(environment: str) -> Policy:
    """An environment's canary policy as the seeds give it (ai_canary_guardrails,
    ai_canary_rollback_triggers, read from their CSV files, as `canary evaluate` reads
    them from their tables): the calibration measures the rules prod runs, never a copy."""
    seeds = project_dir() / "seeds"
    with (seeds / "ai_canary_guardrails.csv").open(encoding="utf-8", newline="") as handle:
        guardrails = next(
            row for row in csv.DictReader(handle) if row["environment"] == environment
        )
    with (seeds / "ai_canary_rollback_triggers.csv").open(encoding="utf-8", newline="") as handle:
        triggers = [row for row in csv.DictReader(handle) if row["environment"] == environment]
    return Policy.from_seeds(guardrails, sorted(triggers, key=lambda row: row["trigger_name"]))


PROD_POLICY = seeded_policy("prod")


@dataclass(frozen=True)
class ArmModel:
    safety: float = 0.999
    schema_valid: float = 0.995
    fallback: float = 0.01
    latency_factor: float = 1.0  # times the baseline's median latency
    latency_sigma: float = LATENCY_SIGMA
    # times the baseline's cost per generation; None: the arm reports no cost
    cost_factor: float | None = None


HEALTHY = ArmModel()


def median_for_p95(p95_ms: float, sigma: float = LATENCY_SIGMA) -> float:
    """The latency factor whose log-normal p95 is `p95_ms` (boundary scenarios)."""
    return p95_ms / math.exp(sigma * z_one_sided(1 - P95)) / LATENCY_MEDIAN_MS


def share_above(ceiling_ms: float, model: ArmModel) -> float:
    """P(latency > ceiling) under an arm's log-normal latency."""
    median = LATENCY_MEDIAN_MS * model.latency_factor
    return 1 - stats._NORMAL.cdf(math.log(ceiling_ms / median) / model.latency_sigma)


class LatencyHistogram:
    """Counts per 0.5%-wide log bucket, as the rollups keep them; order statistics and
    percentiles read off them. The count above the p95 ceiling is kept exactly."""

    def __init__(self, ceiling_ms: float) -> None:
        self.counts = np.zeros(HIGHEST_BUCKET - LOWEST_BUCKET + 1, dtype=np.int64)
        self.total = 0
        self.above_ceiling = 0
        self.ceiling_ms = ceiling_ms
        self._cumulative: np.ndarray | None = None

    def add(self, rng: np.random.Generator, rows: int, model: ArmModel) -> None:
        self.add_lognormal(rng, rows, LATENCY_MEDIAN_MS * model.latency_factor, model.latency_sigma)

    def add_lognormal(
        self, rng: np.random.Generator, rows: int, median: float, sigma: float
    ) -> None:
        if rows <= 0:
            return
        values = median * np.exp(rng.normal(0.0, sigma, rows))
        self.above_ceiling += int((values > self.ceiling_ms).sum())
        buckets = np.clip(
            np.floor(np.log2(values) * BUCKETS_PER_DOUBLING).astype(np.int64),
            LOWEST_BUCKET,
            HIGHEST_BUCKET,
        )
        self.counts += np.bincount(buckets - LOWEST_BUCKET, minlength=len(self.counts))
        self.total += rows
        self._cumulative = None

    def value_at_rank(self, rank: int) -> float:
        if self._cumulative is None:
            self._cumulative = np.cumsum(self.counts)
        index = int(np.searchsorted(self._cumulative, rank))
        return float(2 ** ((index + LOWEST_BUCKET + 0.5) / BUCKETS_PER_DOUBLING))

    def quantile(self, fraction: float) -> float | None:
        return self.value_at_rank(max(1, math.ceil(fraction * self.total))) if self.total else None

    def grid(self) -> list[float] | None:
        """The 1st..99th percentiles, as the first build of ADR 0004 read them."""
        if self.total == 0:
            return None
        return [self.value_at_rank(max(1, math.ceil(q * self.total))) for q in GRID]

    def latency(self, policy: Policy) -> Latency:
        ranks = latency_ranks(policy, self.total).all()
        return Latency(
            samples=self.total,
            above_p95_ceiling=self.above_ceiling,
            order_statistics={rank: self.value_at_rank(rank) for rank in ranks},
            p50=self.quantile(0.5),
            p95=self.quantile(P95),
        )


@dataclass
class ArmState:
    name: str
    model: ArmModel
    rows: int = 0
    fallbacks: int = 0
    safe: int = 0
    valid: int = 0
    samples: int = 0
    latency: LatencyHistogram = field(
        default_factory=lambda: LatencyHistogram(PROD_POLICY.max_p95_latency_ms)
    )
    cost: LatencyHistogram = field(default_factory=lambda: LatencyHistogram(math.inf))

    def add_hour(
        self, rng: np.random.Generator, rows: int, samples: int, with_latency: bool = True
    ) -> None:
        self.rows += rows
        self.fallbacks += int(rng.binomial(rows, self.model.fallback))
        self.samples += samples
        self.safe += int(rng.binomial(samples, self.model.safety))
        self.valid += int(rng.binomial(samples, self.model.schema_valid))
        if with_latency:
            self.latency.add(rng, rows, self.model)
        if self.model.cost_factor is not None:
            self.cost.add_lognormal(
                rng, rows, COST_MEDIAN_MICRO_USD * self.model.cost_factor, COST_SIGMA
            )

    def costs(self, policy: Policy) -> Amounts:
        if self.cost.total == 0:
            return NO_AMOUNTS
        ranks = median_ranks(policy, self.cost.total).all()
        return Amounts(
            samples=self.cost.total,
            order_statistics={rank: self.cost.value_at_rank(rank) for rank in ranks},
            p50=self.cost.quantile(0.5),
        )

    def counts(self, policy: Policy = PROD_POLICY) -> ArmCounts:
        return ArmCounts(
            provider=self.name,
            served_rows=self.rows,
            routed_rows=self.rows,
            fallback=Rate(self.fallbacks, self.rows),
            latency=self.latency.latency(policy),
            eval_samples=self.samples,
            quality={
                "safety_html_tailwind_compliance": Rate(self.safe, self.samples),
                "schema_valid_rate": Rate(self.valid, self.samples),
            },
            cost=self.costs(policy),
        )


# Both arms report costs; the baseline's is the reference (cost_factor 1).
COSTED_BASELINE = ArmModel(cost_factor=1.0)

ShareDecider = Callable[[ArmState, ArmState, float], str]


def decide_now(canary: ArmState, baseline: ArmState, share: float) -> str:
    return judge(canary.counts(), baseline.counts(), PROD_POLICY, share)[0]


def rollout_at_share(
    rng: np.random.Generator,
    share: float,
    model: ArmModel,
    decide_at: ShareDecider,
    stop_on: tuple[str, ...],
    looks: int = LOOKS_14_DAYS,
    baseline_model: ArmModel = HEALTHY,
) -> tuple[int, int, str]:
    """(hours, canary rows, decision) at the first decision in `stop_on`, or at the
    last look. Every hour GENERATIONS_PER_HOUR generations, each the canary's with
    probability `share` (the sample-ratio check expects exactly that); a canary eval
    run of EVAL_RUN_SAMPLES samples per arm is there from the first look."""
    canary, baseline = ArmState("custom", model), ArmState("openai", baseline_model)
    canary.add_hour(rng, 0, EVAL_RUN_SAMPLES)
    baseline.add_hour(rng, 0, EVAL_RUN_SAMPLES)
    decision = "inconclusive"
    for hour in range(1, looks + 1):
        rows = int(rng.binomial(GENERATIONS_PER_HOUR, share))
        canary.add_hour(rng, rows, 0)
        baseline.add_hour(rng, GENERATIONS_PER_HOUR - rows, 0)
        decision = decide_at(canary, baseline, share)
        if decision in stop_on:
            return hour, canary.rows, decision
    return looks, canary.rows, decision
