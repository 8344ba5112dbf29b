"""What the canary's rules (rules.py) read and what each gives: an arm's counts
(telemetry rows, fallbacks, latencies and the order statistics the latency rules ask
for, eval quality rates), the environment's policy as the seeds give it, and a rule's
outcome with its evidence. Plain values: a decision reads the counts from the database,
the calibration benchmark simulates them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Rate:
    successes: int
    trials: int

    @property
    def rate(self) -> float | None:
        return self.successes / self.trials if self.trials else None

    @property
    def failures(self) -> int:
        return self.trials - self.successes


@dataclass(frozen=True)
class Latency:
    """What the rules need of one arm's latencies: counts, and the order statistics at
    the ranks `latency_ranks` asks for (read in SQL, or from a simulation)."""

    samples: int  # rows with a latency
    above_p95_ceiling: int  # of them, how many above the guardrail's p95 ceiling
    order_statistics: dict[int, float]  # 1-based rank -> value
    p50: float | None = None  # point estimates, for display
    p95: float | None = None

    def at_rank(self, rank: int | None) -> float | None:
        return None if rank is None else self.order_statistics.get(rank)


NO_LATENCY = Latency(0, 0, {})


@dataclass(frozen=True)
class Amounts:
    """What the cost rule needs of one arm's costs per generation: how many rows have
    a known cost (recorded or priced), and the order statistics at the ranks
    `median_ranks` asks for; the median and the mean for display."""

    samples: int
    order_statistics: dict[int, float]
    p50: float | None = None
    mean: float | None = None

    def at_rank(self, rank: int | None) -> float | None:
        return None if rank is None else self.order_statistics.get(rank)


NO_AMOUNTS = Amounts(0, {})


@dataclass(frozen=True)
class ArmCounts:
    """What the rules need of one arm."""

    provider: str
    served_rows: int  # telemetry rows it served (latency)
    routed_rows: int  # telemetry rows routed to it (fallback, sample ratio)
    fallback: Rate  # fallbacks of the rows routed to it (successes = fallbacks)
    latency: Latency
    eval_samples: int  # eval samples it served
    # eval metric name -> its rate among those samples (every rate metric of the
    # registry: the triggers and the schema-valid guardrail read theirs)
    quality: dict[str, Rate]
    cost: Amounts = NO_AMOUNTS  # the costs of the rows it served


@dataclass(frozen=True)
class Policy:
    """The seeds' rules for one environment."""

    max_fallback_rate: float
    max_p95_latency_ms: float
    max_p50_latency_ratio: float
    min_schema_valid_rate: float
    min_telemetry_per_arm: int
    min_eval_samples_per_arm: int
    alpha: float
    go_alpha: float
    srm_alpha: float
    triggers: tuple[tuple[str, str, float, float], ...]  # name, metric, max_drop_pp, go_margin_pp
    # the cost guardrail: the canary's median cost per generation over the baseline's
    # at most this (None: no cost guardrail); require_cost: no go without costs
    max_cost_ratio: float | None = None
    require_cost: bool = False

    @classmethod
    def from_seeds(cls, guardrails: dict[str, object], triggers: list[dict[str, object]]) -> Policy:
        return cls(
            max_fallback_rate=float(guardrails["max_fallback_rate"]),  # type: ignore[arg-type]
            max_p95_latency_ms=float(guardrails["max_p95_latency_ms"]),  # type: ignore[arg-type]
            max_p50_latency_ratio=float(guardrails["max_p50_latency_ratio"]),  # type: ignore[arg-type]
            min_schema_valid_rate=float(guardrails["min_schema_valid_rate"]),  # type: ignore[arg-type]
            min_telemetry_per_arm=int(guardrails["min_telemetry_per_arm"]),  # type: ignore[call-overload]
            min_eval_samples_per_arm=int(guardrails["min_eval_samples_per_arm"]),  # type: ignore[call-overload]
            alpha=float(guardrails["alpha"]),  # type: ignore[arg-type]
            go_alpha=float(guardrails["go_alpha"]),  # type: ignore[arg-type]
            srm_alpha=float(guardrails["srm_alpha"]),  # type: ignore[arg-type]
            triggers=tuple(
                (
                    str(t["trigger_name"]),
                    str(t["metric"]),
                    float(t["max_drop_pp"]),  # type: ignore[arg-type]
                    float(t["go_margin_pp"]),  # type: ignore[arg-type]
                )
                for t in triggers
            ),
            max_cost_ratio=(
                None
                if guardrails.get("max_cost_ratio") in (None, "")
                else float(guardrails["max_cost_ratio"])  # type: ignore[arg-type]
            ),
            # a boolean from the table, or the seed file's text (the calibration)
            require_cost=str(guardrails.get("require_cost")).lower() in ("true", "t", "1"),
        )

    @property
    def rollback_alpha(self) -> float:
        return self.alpha / max(1, len(self.triggers))

    @property
    def guardrails(self) -> int:
        """The guardrails the hold budget is split over: fallback, p95 and median
        latency, schema-valid, and the cost ceiling when the seed sets one."""
        return 4 + (self.max_cost_ratio is not None)

    @property
    def hold_alpha(self) -> float:
        return self.alpha / self.guardrails


@dataclass(frozen=True, kw_only=True)
class Rule:
    name: str
    kind: str  # minimum | srm | rollback | guardrail | info
    metric: str
    comparator: str
    threshold: float | None
    observed: float | None
    canary_value: float | None
    baseline_value: float | None
    status: str  # ok | breached | undecided | insufficient | info | no_data
    # The evidence, for replaying the decision: one-sided bounds of `observed` (the
    # one that can show a breach and the one that can show go), the critical values
    # or e-value they came from, and the go margin.
    breach_bound: float | None = None
    go_bound: float | None = None
    go_margin: float | None = None
    evidence: dict[str, float | None] = field(default_factory=dict)

    @classmethod
    def _of(
        cls,
        kind: str,
        name: str,
        metric: str,
        comparator: str,
        threshold: float | None,
        observed: float | None,
        canary: float | None,
        baseline: float | None,
        status: str,
        **bounds: Any,
    ) -> Rule:
        return cls(
            name=name,
            kind=kind,
            metric=metric,
            comparator=comparator,
            threshold=threshold,
            observed=observed,
            canary_value=canary,
            baseline_value=baseline,
            status=status,
            **bounds,
        )

    @classmethod
    def minimum(
        cls, name: str, metric: str, minimum: float, observed: int, canary: int, baseline: int
    ) -> Rule:
        """Enough evidence in an arm: `observed` of at least `minimum`."""
        status = "ok" if observed >= minimum else "insufficient"
        return cls._of("minimum", name, metric, ">=", minimum, observed, canary, baseline, status)

    @classmethod
    def sample_ratio(
        cls,
        expected_share: float | None,
        observed: float | None,
        canary_rows: int,
        baseline_rows: int,
        status: str,
        **bounds: Any,
    ) -> Rule:
        """The canary's share of the step's routed rows against the weights'."""
        return cls._of(
            "srm",
            "sample_ratio",
            "canary_share",
            "=",
            expected_share,
            observed,
            canary_rows,
            baseline_rows,
            status,
            **bounds,
        )

    @classmethod
    def rollback(
        cls,
        name: str,
        metric: str,
        tolerance: float,
        observed: float | None,
        canary: float | None,
        baseline: float | None,
        status: str,
        **bounds: Any,
    ) -> Rule:
        """A rollback trigger: the canary's drop against the baseline, at most `tolerance`."""
        return cls._of(
            "rollback", name, metric, "<=", tolerance, observed, canary, baseline, status, **bounds
        )

    @classmethod
    def guardrail(
        cls,
        name: str,
        metric: str,
        comparator: str,
        threshold: float,
        observed: float | None,
        canary: float | None,
        baseline: float | None,
        status: str,
        **bounds: Any,
    ) -> Rule:
        """A guardrail: the canary's value against a ceiling or floor."""
        return cls._of(
            "guardrail",
            name,
            metric,
            comparator,
            threshold,
            observed,
            canary,
            baseline,
            status,
            **bounds,
        )
