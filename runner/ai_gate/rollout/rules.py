"""The canary's decision rules, as pure functions of two arms' counts (no database),
so that `ai-gate canary evaluate` and the calibration benchmark run the same code.

Every rule is a one-sided test with a stated error rate that holds over every look
of a rollout at once (docs/adr/0004-canary-decisions-that-survive-noise.md):

- a rollback trigger fires when the canary is shown worse than the baseline by more
  than its tolerance: with a tolerance of 0 ("any real drop") by an exact conditional
  e-process on the failures (of all failures, too many are the canary's), otherwise by
  Newcombe's score interval for the difference at a time-uniform critical value;
- a guardrail holds the canary when its breach is itself shown, and is ok when its
  compliance is: for the ceilings (fallback rate, p95 latency, schema-invalid rate) by
  exact e-processes on counts (events of trials against the ceiling's rate: fallbacks,
  latencies above the p95 ceiling, invalid samples), one for each direction; for the
  median latency ratio by quantile confidence sequences of each arm (order statistics
  from the same e-processes at a rate of one half, alpha split between the arms);
- `go` needs every rule shown inside its go margin or threshold (non-inferiority), the
  minimum samples, and no sample-ratio mismatch;
- anything else is `inconclusive`: keep collecting.

The rollback budget `alpha` is split evenly over the triggers and the hold budget over
the guardrails (Bonferroni), so a canary as good as the baseline is rolled back, or
held, with probability at most `alpha` over the whole rollout, however often it is
evaluated. A wrong `go` has probability at most `go_alpha` per rule (an
intersection-union test needs no split).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from ai_gate import stats
from ai_gate.rollout.rule_types import Amounts, ArmCounts, Policy, Rate, Rule

# Stored with each decision. A change to what the rules compute changes this text too:
# `ai-gate replay` re-derives only the decisions made under the text it has.
METHOD = (
    "anytime-valid: exact e-processes on counts and quantile confidence sequences;"
    " conditional e-process / Newcombe + normal-mixture z (ADR 0004)"
)
# The guardrail on latency is on its 95th percentile: a ceiling on the share above it.
P95 = 0.95
# Sample sizes at which the time-uniform boundaries are tightest: where decisions are
# usually made (eval samples per arm; telemetry rows per arm).
TARGET_EVAL_SAMPLES = 600
TARGET_TELEMETRY_ROWS = 5_000
# The guardrail min_schema_valid_rate is a floor on this eval metric's rate.
SCHEMA_VALID_METRIC = "schema_valid_rate"
# A rollback rule's metric: the eval metric's name and this (a drop in points).
DROP_SUFFIX = "_drop_pp"


def log_e_value_canary_worse(
    canary_failures: int, baseline_failures: int, canary_share: float
) -> float:
    """log of an e-process against "the canary fails no more often than the baseline".

    Given N failures in all, each is the canary's with probability pi, which is at most
    pi0 = the canary's share of the samples under that null: of N trials, x events
    against a rate of at most pi0 (stats.log_e_value_rate_above, exact in log space:
    a canary with far fewer failures than its share gets a tiny e-value, never a
    spurious large one)."""
    return stats.log_e_value_rate_above(
        canary_failures, canary_failures + baseline_failures, canary_share
    )


def _e_value(log_e: float) -> float:
    """An e-value for the stored evidence (JSON has no infinity)."""
    return math.exp(min(log_e, 700.0))


def _rollback_rule(
    name: str, metric: str, tolerance_pp: float, margin_pp: float, c: Rate, b: Rate, policy: Policy
) -> Rule:
    metric_name = f"{metric}{DROP_SUFFIX}"
    if c.trials == 0 or b.trials == 0:
        return Rule.rollback(
            name,
            metric_name,
            tolerance_pp,
            None,
            c.rate,
            b.rate,
            "insufficient",
            go_margin=margin_pp,
        )
    drop_pp = (b.successes / b.trials - c.successes / c.trials) * 100
    information = min(c.trials, b.trials)
    z_go = stats.time_uniform_z_near(information, policy.go_alpha, TARGET_EVAL_SAMPLES)
    go_interval = stats.newcombe_difference(b.successes, b.trials, c.successes, c.trials, z_go)
    assert go_interval is not None
    go_bound = go_interval[1] * 100
    evidence: dict[str, float | None] = {"z_go": z_go, "alpha": policy.rollback_alpha}
    if tolerance_pp == 0:
        log_e = log_e_value_canary_worse(c.failures, b.failures, c.trials / (c.trials + b.trials))
        breached = log_e >= math.log(1 / policy.rollback_alpha)
        evidence["e_value"] = _e_value(log_e)
        breach_bound = None
    else:
        z_breach = stats.time_uniform_z_near(
            information, policy.rollback_alpha, TARGET_EVAL_SAMPLES
        )
        interval = stats.newcombe_difference(b.successes, b.trials, c.successes, c.trials, z_breach)
        assert interval is not None
        breach_bound = interval[0] * 100
        breached = breach_bound > tolerance_pp
        evidence["z_breach"] = z_breach
    status = "breached" if breached else ("ok" if go_bound < margin_pp else "undecided")
    return Rule.rollback(
        name,
        metric_name,
        tolerance_pp,
        drop_pp,
        c.rate,
        b.rate,
        status,
        breach_bound=breach_bound,
        go_bound=go_bound,
        go_margin=margin_pp,
        evidence=evidence,
    )


def _ceiling_rule(
    name: str,
    metric: str,
    events: int,
    trials: int,
    ceiling: float,
    policy: Policy,
) -> tuple[str, dict[str, float | None]]:
    """A ceiling on the rate of events (fallbacks, latencies above the p95 ceiling,
    invalid samples): breached when the e-process against "at most the ceiling"
    reaches 1/hold_alpha, ok when the one against "at least the ceiling" reaches
    1/go_alpha (both exact, valid at every look), else undecided."""
    if trials == 0:
        return "insufficient", {}
    log_go = stats.log_e_value_rate_below(events, trials, ceiling)
    log_breach = stats.log_e_value_rate_above(events, trials, ceiling)
    if log_breach >= math.log(1 / policy.hold_alpha):
        status = "breached"
    elif log_go >= math.log(1 / policy.go_alpha):
        status = "ok"
    else:
        status = "undecided"
    evidence: dict[str, float | None] = {
        "events": events,
        "trials": trials,
        "e_value_go": _e_value(log_go),
        "e_value_breach": _e_value(log_breach),
        "go_alpha": policy.go_alpha,
        "hold_alpha": policy.hold_alpha,
    }
    return status, evidence


def _rate_guardrail(
    name: str,
    metric: str,
    comparator: str,
    threshold: float,
    rate: Rate,
    baseline: Rate,
    policy: Policy,
) -> Rule:
    """A rate under a ceiling (`<=`, events are the successes) or above a floor (`>=`,
    events are the failures under the ceiling 1 - floor); the bounds are the confidence
    sequence of the same e-processes."""
    if comparator == "<=":
        events, ceiling = rate.successes, threshold
    else:
        events, ceiling = rate.failures, 1.0 - threshold
    status, evidence = _ceiling_rule(name, metric, events, rate.trials, ceiling, policy)
    breach_bound = stats.rate_bound(events, rate.trials, policy.hold_alpha, "lower")
    go_bound = stats.rate_bound(events, rate.trials, policy.go_alpha, "upper")
    if comparator == ">=" and breach_bound is not None and go_bound is not None:
        breach_bound, go_bound = 1.0 - breach_bound, 1.0 - go_bound
    return Rule.guardrail(
        name,
        metric,
        comparator,
        threshold,
        observed=rate.rate,
        canary=rate.rate,
        baseline=baseline.rate,
        status=status,
        breach_bound=breach_bound,
        go_bound=go_bound,
        evidence=evidence,
    )


def _ceiling_status(
    has_data: bool, breach_bound: float | None, go_bound: float | None, ceiling: float
) -> str:
    """A `<=` guardrail on bounds: breached when even the low bound is above the
    ceiling, ok when even the high bound is under it, else undecided (a missing bound
    shows nothing)."""
    if not has_data:
        return "insufficient"
    if breach_bound is not None and breach_bound > ceiling:
        return "breached"
    if go_bound is not None and go_bound <= ceiling:
        return "ok"
    return "undecided"


@dataclass(frozen=True)
class LatencyRanks:
    """The ranks of the order statistics the latency rules read, for t latencies."""

    p95_breach: int | None  # lower bound of the p95 at hold_alpha
    p95_go: int | None  # upper bound of the p95 at go_alpha
    # the median's bounds, each arm at half the budget (the ratio combines two arms)
    p50_hold_low: int | None
    p50_hold_high: int | None
    p50_go_low: int | None
    p50_go_high: int | None

    def all(self) -> list[int]:
        return sorted({rank for rank in asdict(self).values() if rank is not None})


def latency_ranks(policy: Policy, samples: int) -> LatencyRanks:
    """Which order statistics of an arm's `samples` latencies the rules need."""
    p95_breach, _ = stats.quantile_ranks(P95, samples, policy.hold_alpha)
    _, p95_go = stats.quantile_ranks(P95, samples, policy.go_alpha)
    hold_low, hold_high = stats.quantile_ranks(0.5, samples, policy.hold_alpha / 2)
    go_low, go_high = stats.quantile_ranks(0.5, samples, policy.go_alpha / 2)
    return LatencyRanks(p95_breach, p95_go, hold_low, hold_high, go_low, go_high)


def _latency_rules(c: ArmCounts, b: ArmCounts, policy: Policy) -> list[Rule]:
    c_ranks = latency_ranks(policy, c.latency.samples)
    b_ranks = latency_ranks(policy, b.latency.samples)
    # p95 against an absolute ceiling: the share of latencies above it, against 5%
    status, evidence = _ceiling_rule(
        "max_p95_latency_ms",
        "p95_latency_ms",
        c.latency.above_p95_ceiling,
        c.latency.samples,
        1.0 - P95,
        policy,
    )
    p95_rule = Rule.guardrail(
        "max_p95_latency_ms",
        "p95_latency_ms",
        "<=",
        policy.max_p95_latency_ms,
        observed=c.latency.p95,
        canary=c.latency.p95,
        baseline=b.latency.p95,
        status=status,
        breach_bound=c.latency.at_rank(c_ranks.p95_breach),
        go_bound=c.latency.at_rank(c_ranks.p95_go),
        evidence=evidence,
    )
    # the median against the baseline's: a ratio of the two arms' bounds
    c_hold_low = c.latency.at_rank(c_ranks.p50_hold_low)
    b_hold_high = b.latency.at_rank(b_ranks.p50_hold_high)
    c_go_high = c.latency.at_rank(c_ranks.p50_go_high)
    b_go_low = b.latency.at_rank(b_ranks.p50_go_low)
    breach_bound = c_hold_low / b_hold_high if c_hold_low is not None and b_hold_high else None
    go_bound = c_go_high / b_go_low if c_go_high is not None and b_go_low else None
    c50, b50 = c.latency.p50, b.latency.p50
    ratio_rule = Rule.guardrail(
        "max_p50_latency_ratio",
        "p50_latency_ratio",
        "<=",
        policy.max_p50_latency_ratio,
        observed=c50 / b50 if c50 is not None and b50 else None,
        canary=c50,
        baseline=b50,
        status=_ceiling_status(
            c.latency.samples > 0 and b.latency.samples > 0,
            breach_bound,
            go_bound,
            policy.max_p50_latency_ratio,
        ),
        breach_bound=breach_bound,
        go_bound=go_bound,
        evidence={
            "go_alpha_per_arm": policy.go_alpha / 2,
            "hold_alpha_per_arm": policy.hold_alpha / 2,
        },
    )
    return [p95_rule, ratio_rule]


@dataclass(frozen=True)
class MedianRanks:
    """The ranks of the order statistics a median-ratio rule reads of one arm of t
    values: the median's bounds, each arm at half the rule's budget."""

    hold_low: int | None
    hold_high: int | None
    go_low: int | None
    go_high: int | None

    def all(self) -> list[int]:
        return sorted({rank for rank in asdict(self).values() if rank is not None})


def median_ranks(policy: Policy, samples: int) -> MedianRanks:
    """Which order statistics of an arm's `samples` costs the cost rule needs."""
    hold_low, hold_high = stats.quantile_ranks(0.5, samples, policy.hold_alpha / 2)
    go_low, go_high = stats.quantile_ranks(0.5, samples, policy.go_alpha / 2)
    return MedianRanks(hold_low, hold_high, go_low, go_high)


def _cost_rule(c: Amounts, b: Amounts, policy: Policy) -> Rule:
    """The canary's cost per generation against the baseline's, as the ratio of their
    medians (ADR 0004's amendment): each arm's median bounded by its quantile confidence
    sequence at half the budget, the ratio's bounds from the two arms' (as the median
    latency ratio). Neither arm reporting costs is no cost data (an info row that does
    not block a go, unless the environment requires costs); one arm without costs is
    never shown either way (undecided)."""
    assert policy.max_cost_ratio is not None
    ceiling = policy.max_cost_ratio
    observed = c.p50 / b.p50 if c.p50 is not None and b.p50 else None
    evidence: dict[str, float | None] = {
        "canary_cost_samples": c.samples,
        "baseline_cost_samples": b.samples,
        "canary_mean_cost_usd": c.mean,
        "baseline_mean_cost_usd": b.mean,
        "go_alpha_per_arm": policy.go_alpha / 2,
        "hold_alpha_per_arm": policy.hold_alpha / 2,
    }
    if c.samples == 0 and b.samples == 0:
        return Rule._of(
            "guardrail" if policy.require_cost else "info",
            "max_cost_ratio",
            "p50_cost_ratio",
            "<=",
            ceiling,
            None,
            None,
            None,
            "insufficient" if policy.require_cost else "no_data",
            evidence=evidence,
        )
    c_ranks, b_ranks = median_ranks(policy, c.samples), median_ranks(policy, b.samples)
    c_hold_low, b_hold_high = c.at_rank(c_ranks.hold_low), b.at_rank(b_ranks.hold_high)
    c_go_high, b_go_low = c.at_rank(c_ranks.go_high), b.at_rank(b_ranks.go_low)
    breach_bound = c_hold_low / b_hold_high if c_hold_low is not None and b_hold_high else None
    go_bound = c_go_high / b_go_low if c_go_high is not None and b_go_low else None
    return Rule.guardrail(
        "max_cost_ratio",
        "p50_cost_ratio",
        "<=",
        ceiling,
        observed=observed,
        canary=c.p50,
        baseline=b.p50,
        # with one arm's costs missing nothing is shown: undecided, never a go
        status=_ceiling_status(
            c.samples > 0 or b.samples > 0,
            breach_bound,
            go_bound,
            ceiling,
        ),
        breach_bound=breach_bound,
        go_bound=go_bound,
        evidence=evidence,
    )


def _sample_ratio_rule(
    canary_rows: int, baseline_rows: int, expected_share: float | None, policy: Policy
) -> Rule:
    """Is the canary getting the share of traffic its weight asks for? A mismatch means
    the product is not honouring the flags, or telemetry is lost: never go on it."""
    total = canary_rows + baseline_rows
    observed = canary_rows / total if total else None
    if expected_share is None or total == 0 or expected_share in (0.0, 1.0):
        return Rule.sample_ratio(
            expected_share, observed, canary_rows, baseline_rows, "insufficient"
        )
    # two-sided: each side at half the budget, time-uniform over the step
    z = stats.time_uniform_z_near(total, policy.srm_alpha / 2, TARGET_TELEMETRY_ROWS)
    low, high = stats.wilson_interval(canary_rows, total, z)  # type: ignore[misc]
    mismatch = not low <= expected_share <= high
    p_value = stats.binomial_test(canary_rows, total, expected_share)
    return Rule.sample_ratio(
        expected_share,
        observed,
        canary_rows,
        baseline_rows,
        "breached" if mismatch else "ok",
        breach_bound=low,
        go_bound=high,
        evidence={"z": z, "binomial_p_value": p_value},
    )


def judge(
    canary: ArmCounts,
    baseline: ArmCounts,
    policy: Policy,
    expected_canary_share: float | None,
    step_routed_rows: tuple[int, int] | None = None,
) -> tuple[str, list[Rule]]:
    """The decision and every rule that led to it. The sample ratio is checked on
    `step_routed_rows` (canary, baseline rows since the last flag change) when given,
    else on the arms' routed rows."""
    rules: list[Rule] = []
    for arm in (canary, baseline):
        rules.append(
            Rule.minimum(
                f"{arm.provider}_telemetry_rows",
                "served_rows",
                policy.min_telemetry_per_arm,
                arm.served_rows,
                canary.served_rows,
                baseline.served_rows,
            )
        )
        rules.append(
            Rule.minimum(
                f"{arm.provider}_eval_samples",
                "eval_samples",
                policy.min_eval_samples_per_arm,
                arm.eval_samples,
                canary.eval_samples,
                baseline.eval_samples,
            )
        )
    canary_rows, baseline_rows = step_routed_rows or (canary.routed_rows, baseline.routed_rows)
    rules.append(_sample_ratio_rule(canary_rows, baseline_rows, expected_canary_share, policy))
    fallback = Rate(canary.fallback.successes, canary.fallback.trials)
    rules.append(
        _rate_guardrail(
            "max_fallback_rate",
            "fallback_rate",
            "<=",
            policy.max_fallback_rate,
            fallback,
            baseline.fallback,
            policy,
        )
    )
    rules += _latency_rules(canary, baseline, policy)
    if policy.max_cost_ratio is not None:
        rules.append(_cost_rule(canary.cost, baseline.cost, policy))
    rules.append(
        _rate_guardrail(
            "min_schema_valid_rate",
            SCHEMA_VALID_METRIC,
            ">=",
            policy.min_schema_valid_rate,
            canary.quality[SCHEMA_VALID_METRIC],
            baseline.quality[SCHEMA_VALID_METRIC],
            policy,
        )
    )
    for name, metric, tolerance, margin in policy.triggers:
        rules.append(
            _rollback_rule(
                name,
                metric,
                tolerance,
                margin,
                canary.quality[metric],
                baseline.quality[metric],
                policy,
            )
        )
    return decide(rules), rules


def judged_quality_metrics(rules: list[Rule]) -> set[str]:
    """The eval metrics whose rates the rules judged: the triggers' and the
    schema-valid guardrail's."""
    judged = {SCHEMA_VALID_METRIC} if any(r.metric == SCHEMA_VALID_METRIC for r in rules) else set()
    return judged | {
        rule.metric.removesuffix(DROP_SUFFIX) for rule in rules if rule.kind == "rollback"
    }


def decide(rules: list[Rule]) -> str:
    if any(rule.kind == "rollback" and rule.status == "breached" for rule in rules):
        return "rollback"
    if any(rule.kind in ("guardrail", "srm") and rule.status == "breached" for rule in rules):
        return "hold"
    if all(rule.status == "ok" for rule in rules if rule.kind != "info"):
        return "go"
    return "inconclusive"


def rule_as_json(rule: Rule) -> dict[str, object]:
    return asdict(rule)
