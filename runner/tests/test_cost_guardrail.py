"""The canary's cost guardrail (prod's max_cost_ratio 1.0: the canary's median cost per
generation over the baseline's), on the calibration's seeded model of a rollout at
prod's first step (1% of 4,000 generations an hour), decided hour by hour by the rules
`canary evaluate` runs: a canary at 3x its baseline's cost never goes and is held; one
at half its cost goes as soon as one that reports no cost at all."""

from __future__ import annotations

import statistics

import numpy as np

from ai_gate_tools.calibration_model import (
    COSTED_BASELINE,
    HEALTHY,
    PROD_POLICY,
    ArmModel,
    decide_now,
    rollout_at_share,
)

TRIALS = 20
DECISIONS = ("go", "hold", "rollback")


def hours_and_decisions(model: ArmModel, baseline: ArmModel, seed: int) -> list[tuple[int, str]]:
    rng = np.random.default_rng(seed)
    return [
        rollout_at_share(rng, 0.01, model, decide_now, DECISIONS, baseline_model=baseline)[::2]
        for _ in range(TRIALS)
    ]


def test_prods_policy_is_the_seeded_one() -> None:
    assert (PROD_POLICY.max_cost_ratio, PROD_POLICY.require_cost) == (1.0, False)


def test_a_canary_at_three_times_the_cost_is_held_and_never_goes() -> None:
    outcomes = hours_and_decisions(ArmModel(cost_factor=3.0), COSTED_BASELINE, seed=3)
    assert {decision for _, decision in outcomes} == {"hold"}


def test_a_canary_at_half_the_cost_goes_as_soon_as_one_without_cost_data() -> None:
    cheap = hours_and_decisions(ArmModel(cost_factor=0.5), COSTED_BASELINE, seed=5)
    unreported = hours_and_decisions(HEALTHY, HEALTHY, seed=5)
    assert {decision for _, decision in cheap} == {decision for _, decision in unreported} == {"go"}
    # the same median hour to go, within the hour a look takes
    cheap_hours = statistics.median(hour for hour, _ in cheap)
    unreported_hours = statistics.median(hour for hour, _ in unreported)
    assert abs(cheap_hours - unreported_hours) <= 1, (cheap, unreported)


def test_costs_from_one_arm_only_decide_nothing_and_require_cost_blocks_a_go() -> None:
    """One arm reporting costs is undecided (never a go); neither reporting is NO_DATA,
    which blocks no go, unless the environment requires costs."""
    import dataclasses

    from ai_gate.rollout.rules import judge
    from ai_gate_tools.calibration_model import EVAL_RUN_SAMPLES, ArmState

    def arms(canary_model: ArmModel) -> tuple:
        rng = np.random.default_rng(11)
        canary, baseline = ArmState("custom", canary_model), ArmState("openai", HEALTHY)
        canary.add_hour(rng, 0, EVAL_RUN_SAMPLES)
        baseline.add_hour(rng, 0, EVAL_RUN_SAMPLES)
        for _ in range(24):  # a day at a 5% share: every other rule shown ok
            canary.add_hour(rng, 200, 0)
            baseline.add_hour(rng, 3800, 0)
        return canary.counts(), baseline.counts()

    def cost_rule(policy, canary_model):
        verdict, rules = judge(*arms(canary_model), policy, 0.05)
        return verdict, next(r for r in rules if r.name == "max_cost_ratio")

    verdict, rule = cost_rule(PROD_POLICY, ArmModel(cost_factor=0.5))
    assert (verdict, rule.kind, rule.status) == ("inconclusive", "guardrail", "undecided")
    verdict, rule = cost_rule(PROD_POLICY, HEALTHY)
    assert (verdict, rule.kind, rule.status) == ("go", "info", "no_data")
    required = dataclasses.replace(PROD_POLICY, require_cost=True)
    verdict, rule = cost_rule(required, HEALTHY)
    assert (verdict, rule.kind, rule.status) == ("inconclusive", "guardrail", "insufficient")
