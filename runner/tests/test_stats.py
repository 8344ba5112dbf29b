"""The statistics module against reference implementations (scipy, statsmodels) and
published values. No database."""

from __future__ import annotations

import bisect
import math
import random
from fractions import Fraction

import numpy as np
import pytest
from conftest import ClonedDatabase
from scipy import special
from scipy import stats as scipy_stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from ai_gate import stats
from ai_gate.dbt_macros import render_macro
from ai_gate.rollout import rules
from ai_gate_tools import calibration_exact as calibration

Z95 = 1.959963984540054


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2", "low", "high"),
    [
        # Newcombe (1998), Table II, method 10, 95% intervals.
        (56, 70, 48, 80, 0.0524, 0.3339),
        (9, 10, 3, 10, 0.1705, 0.8090),
        (5, 56, 0, 29, -0.0381, 0.1926),
        (0, 10, 0, 20, -0.1611, 0.2775),
        (0, 10, 0, 10, -0.2775, 0.2775),
        (10, 10, 0, 20, 0.6791, 1.0000),
        (10, 10, 0, 10, 0.6075, 1.0000),
    ],
)
def test_newcombe_matches_the_published_examples(
    x1: int, n1: int, x2: int, n2: int, low: float, high: float
) -> None:
    interval = stats.newcombe_difference(x1, n1, x2, n2, Z95)
    assert interval is not None
    assert interval == pytest.approx((low, high), abs=5e-5)


def test_intervals_match_statsmodels() -> None:
    rng = random.Random(11)
    for _ in range(300):
        n1, n2 = rng.randint(1, 3000), rng.randint(1, 3000)
        x1, x2 = rng.randint(0, n1), rng.randint(0, n2)
        alpha = rng.choice([0.05, 0.01, 0.002, 1e-6])
        z = scipy_stats.norm.isf(alpha / 2)
        expected_wilson = proportion_confint(x1, n1, alpha=alpha, method="wilson")
        assert stats.wilson_interval(x1, n1, z) == pytest.approx(expected_wilson, abs=1e-9)
        expected = confint_proportions_2indep(
            x1, n1, x2, n2, method="newcomb", compare="diff", alpha=alpha
        )
        assert stats.newcombe_difference(x1, n1, x2, n2, z) == pytest.approx(expected, abs=1e-9)


def test_wilson_stays_inside_zero_and_one() -> None:
    for trials in (1, 7, 400, 10**6):
        for successes in (0, trials):
            low, high = stats.wilson_interval(successes, trials, Z95)  # type: ignore[misc]
            assert 0.0 <= low <= high <= 1.0


@pytest.mark.parametrize(
    ("k", "n", "p"),
    [
        (0, 10, 0.5),
        (3, 10, 0.5),
        (5, 10, 0.5),
        (7, 20, 0.2),
        (120, 1000, 0.1),
        (80, 1000, 0.1),
        (9, 1000, 0.01),
        (5, 5, 0.9),
        (0, 5, 0.9),
    ],
)
def test_binomial_test_matches_scipy(k: int, n: int, p: float) -> None:
    expected = scipy_stats.binomtest(k, n, p).pvalue
    assert stats.binomial_test(k, n, p) == pytest.approx(expected, rel=1e-6)


def test_large_binomial_tests_are_exact_too() -> None:
    for k, n, p in ((100_400, 500_000, 0.2), (5_300, 50_000, 0.1), (2_010_000, 10**7, 0.2)):
        exact = scipy_stats.binomtest(k, n, p).pvalue
        assert stats.binomial_test(k, n, p) == pytest.approx(exact, rel=1e-6)


def test_mcnemar_matches_scipy_and_holm_matches_statsmodels() -> None:
    from statsmodels.stats.multitest import multipletests

    for regressed, improved in ((7, 1), (3, 3), (0, 4), (15, 5)):
        expected = scipy_stats.binomtest(
            regressed, regressed + improved, 0.5, alternative="greater"
        ).pvalue
        assert stats.mcnemar_exact_one_sided(regressed, improved) == pytest.approx(expected)
    assert stats.mcnemar_exact_one_sided(0, 0) == 1.0
    p_values = {"a": 0.01, "b": 0.04, "c": 0.03, "d": 0.5}
    expected = multipletests(list(p_values.values()), method="holm")[1]
    assert list(stats.holm(p_values).values()) == pytest.approx(
        [dict(zip(p_values, expected, strict=True))[name] for name in stats.holm(p_values)]
    )


def test_the_time_uniform_z_holds_over_many_looks() -> None:
    """A seeded simulation of a Gaussian random walk watched at every step: the share
    of walks that ever cross the boundary stays below alpha (Ville's inequality)."""
    rng = random.Random(5)
    alpha, looks, walks = 0.05, 2000, 400
    rho = stats.mixture_rho(alpha, 500)
    boundary = [stats.time_uniform_z(t, alpha, rho) * math.sqrt(t) for t in range(1, looks + 1)]
    crossed = 0
    for _ in range(walks):
        total = 0.0
        for bound in boundary:
            total += rng.gauss(0, 1)
            if total >= bound:
                crossed += 1
                break
    assert crossed / walks <= alpha
    # It costs a little over the fixed-sample one-sided z at the target size, and
    # solves M_t = 1/alpha (the mixture at the boundary).
    z_fixed = scipy_stats.norm.isf(alpha)
    z = stats.time_uniform_z(500, alpha, rho)
    assert z_fixed < z < 1.7 * z_fixed
    w = z * math.sqrt(500 / (500 + rho))
    mixture = 2 * math.sqrt(rho / (500 + rho)) * math.exp(w * w / 2) * scipy_stats.norm.cdf(w)
    assert mixture == pytest.approx(1 / alpha, rel=1e-9)


def test_quantile_confidence_sequences_cover_at_every_look() -> None:
    """The median's bounds from quantile_ranks, watched after every value of a growing
    sample: the share of sequences that ever miss the true median stays below alpha
    on each side (seeded; Howard & Ramdas 2022, Thm 1)."""
    rng = random.Random(9)
    alpha, looks, sequences = 0.05, 400, 300
    median = math.exp(8)
    missed_low = missed_high = 0
    for _ in range(sequences):
        values: list[float] = []
        low_missed = high_missed = False
        for t in range(1, looks + 1):
            bisect.insort(values, rng.lognormvariate(8, 0.5))
            lower, upper = stats.quantile_ranks(0.5, t, alpha)
            low_missed |= lower is not None and values[lower - 1] > median
            high_missed |= upper is not None and values[upper - 1] < median
        missed_low += low_missed
        missed_high += high_missed
    assert missed_low / sequences <= alpha
    assert missed_high / sequences <= alpha
    # no bound from 3 values; from 10, the smallest and largest; then they narrow
    assert stats.quantile_ranks(0.5, 3, alpha) == (None, None)
    assert stats.quantile_ranks(0.5, 10, alpha) == (1, 10)
    lower, upper = stats.quantile_ranks(0.5, 1000, alpha)
    assert lower is not None and upper is not None and 400 < lower < 500 < upper < 600


def _exact_log_cdf(k: int, n: int, p: Fraction) -> float:
    total = sum(math.comb(n, j) * p**j * (1 - p) ** (n - j) for j in range(k + 1))
    return math.log(total.numerator) - math.log(total.denominator)


def test_binomial_tails_are_exact_in_log_space() -> None:
    """log P(X <= k) and log P(X >= k) against scipy where scipy is accurate, and
    against exact rational arithmetic far in the tails, where 1 - P(X > k) would
    cancel to nothing (and where scipy's own logcdf underflows)."""
    rng = random.Random(1)
    for _ in range(2000):
        n = rng.choice([1, 5, 50, 500, 5000, 200_000])
        k = rng.randint(-1, n + 1)
        p = rng.choice([1e-4, 0.01, 0.05, 0.3, 0.5, 0.9, 0.999])
        expected = scipy_stats.binom.logcdf(k, n, p)
        if expected > -700:  # scipy's own precision ends near the float range
            assert stats.log_binomial_cdf(k, n, p) == pytest.approx(expected, rel=1e-9, abs=1e-12)
        expected_sf = scipy_stats.binom.logsf(k - 1, n, p)
        if expected_sf > -700:
            assert stats.log_binomial_sf(k, n, p) == pytest.approx(expected_sf, rel=1e-9, abs=1e-12)
    for k, n, p in ((3, 4001, "1/2"), (0, 122, "1/2"), (3521, 5000, "9/10"), (2, 2000, "1/20")):
        exact = _exact_log_cdf(k, n, Fraction(p))
        assert stats.log_binomial_cdf(k, n, float(Fraction(p))) == pytest.approx(exact, rel=1e-12)
    assert stats.log_binomial_cdf(-1, 10, 0.5) == -math.inf
    assert stats.log_binomial_cdf(10, 10, 0.5) == 0.0


def _reference_log_e_above(x: int, t: int, q0: float) -> float:
    """The mixture e-value against "rate <= q0", from scipy (independent code)."""
    return float(
        special.betaln(x + 1, t - x + 1)
        + scipy_stats.binom.logcdf(x, t + 1, q0)
        - math.log1p(-q0)
        - x * math.log(q0)
        - (t - x) * math.log1p(-q0)
    )


def _reference_log_e_below(x: int, t: int, q0: float) -> float:
    return float(
        special.betaln(x + 1, t - x + 1)
        + scipy_stats.binom.logsf(x, t + 1, q0)
        - math.log(q0)
        - x * math.log(q0)
        - (t - x) * math.log1p(-q0)
    )


def test_the_e_values_match_an_independent_computation() -> None:
    """Both mixtures against scipy (betaln + binom.logcdf/logsf) on a grid of counts
    and shares, including the cases where the first build's 1 - P(X > x) cancelled: a
    canary with 2 unsafe pages of 2,000 against a baseline's 100 (log e 27 then, about
    -4 exactly) and 0 against 61 at a 50% share (6.8 then, -4.1 exactly)."""
    cases = [(2, 102, 0.5), (0, 61, 0.5), (0, 61, 0.2), (1, 3000, 0.01)]
    cases += [
        (x, x + other, share)
        for x in (0, 1, 3, 10, 40)
        for other in (0, 5, 60, 500)
        for share in (0.01, 0.05, 0.2, 0.5, 0.8)
    ]
    for x, t, q0 in cases:
        if t == 0:
            continue
        reference = _reference_log_e_above(x, t, q0)
        if reference == -math.inf:  # scipy's logcdf underflows: the tail summed exactly
            tail = _exact_log_cdf(x, t + 1, Fraction(q0))
            reference = (
                float(special.betaln(x + 1, t - x + 1))
                + tail
                - math.log1p(-q0)
                - x * math.log(q0)
                - (t - x) * math.log1p(-q0)
            )
            assert math.isfinite(reference)
        assert stats.log_e_value_rate_above(x, t, q0) == pytest.approx(
            reference, rel=1e-9, abs=1e-9
        ), (x, t, q0)
        assert stats.log_e_value_rate_below(x, t, q0) == pytest.approx(
            _reference_log_e_below(x, t, q0), rel=1e-9, abs=1e-9
        ), (x, t, q0)
    # the first build gave log e 27 and 6.8 here (rollbacks); both are below 0
    assert rules.log_e_value_canary_worse(2, 100, 0.5) == pytest.approx(
        _reference_log_e_above(2, 102, 0.5), rel=1e-9
    )
    assert rules.log_e_value_canary_worse(2, 100, 0.5) < -4
    assert rules.log_e_value_canary_worse(0, 61, 0.5) == pytest.approx(-4.1, abs=0.05)


def test_the_e_processes_are_never_more_permissive_than_the_fixed_sample_test() -> None:
    """Where an e-process says "shown", the exact fixed-sample binomial test at the same
    alpha says so too (Markov: P(e >= 1/alpha) <= alpha at any single look), on a grid
    of trials, counts and ceilings."""
    for q0 in (0.01, 0.03, 0.05, 0.5):
        for alpha in (0.05, 0.0025):
            for t in range(1, 401, 3):
                x = np.arange(t + 1)
                fixed_below = scipy_stats.binom.cdf(x, t, q0) <= alpha
                fixed_above = scipy_stats.binom.sf(x - 1, t, q0) <= alpha
                threshold = math.log(1 / alpha)
                for events in range(t + 1):
                    if stats.log_e_value_rate_below(events, t, q0) >= threshold:
                        assert fixed_below[events], (q0, alpha, t, events)
                    if stats.log_e_value_rate_above(events, t, q0) >= threshold:
                        assert fixed_above[events], (q0, alpha, t, events)


def test_the_boundaries_are_the_e_values_crossings() -> None:
    """most_events_shown_below / fewest_events_shown_above (searched from a guess) are
    exactly the counts a scan of every count finds, and rate_bound agrees with the
    decision at the ceiling."""
    for t in (1, 10, 59, 88, 250, 1000, 4000):
        for q0 in (0.01, 0.05, 0.5):
            scan_below = [
                x for x in range(t + 1) if stats.log_e_value_rate_below(x, t, q0) >= math.log(20)
            ]
            scan_above = [
                x for x in range(t + 1) if stats.log_e_value_rate_above(x, t, q0) >= math.log(400)
            ]
            assert stats.most_events_shown_below(t, q0, 0.05) == max(scan_below, default=None)
            assert stats.fewest_events_shown_above(t, q0, 0.0025) == min(scan_above, default=None)
            for x in range(0, t + 1, max(1, t // 7)):
                shown = stats.log_e_value_rate_below(x, t, q0) >= math.log(20)
                upper = stats.rate_bound(x, t, 0.05, "upper")
                assert upper is not None
                assert shown == (upper <= q0 * (1 + 1e-9)), (t, q0, x, upper)


def test_the_exact_boundary_false_go_is_at_most_go_alpha() -> None:
    """A canary exactly at a ceiling (5% of latencies above the p95 guardrail, or a 5%
    fallback rate) looked at after every row for 5,000 rows, and every hour at prod's
    1% share for 14 days: the exact probability (dynamic programming over rows and
    counts) that the guardrail ever says ok is at most go_alpha, and not far below it
    (the price of looking at every row is small)."""
    every_row = calibration.go_probability(0.05, 0.05, 0.05, range(1, 5001))
    assert 0.03 < every_row <= 0.05
    hourly = calibration.go_probability(0.05, 0.05, 0.05, [40 * h for h in range(1, 337)])
    assert hourly <= every_row
    # past the ceiling it is rarer still
    assert calibration.go_probability(0.0622, 0.05, 0.05, range(1, 5001)) < 0.01


def test_the_sql_wilson_bound_is_the_python_one(built_db: ClonedDatabase) -> None:
    """The gate view's Wilson bounds (macro wilson_interval_bound) and the canary's
    (stats.wilson_interval) are two implementations of one formula, in two languages:
    on a grid of counts and critical values, including 0, 1 and n = 1, they agree."""
    rng = random.Random(11)
    cases = [(0, 1), (1, 1), (0, 40), (40, 40), (1, 2), (3, 7)]
    cases += [(k, n) for n in (5, 50, 400, 20_000) for k in sorted(rng.sample(range(n + 1), 4))]
    zs = (1.959963984540054, stats.z_one_sided(0.05), 3.4)
    bounds = {
        side: render_macro(
            "wilson_interval_bound", ["wilson_interval_bound.sql"], args=("k", "n", side, "z")
        )
        for side in ("lower", "upper")
    }
    values = ", ".join(f"({k}, {n}, {z!r}::double precision)" for k, n in cases for z in zs)
    rows = built_db.execute(
        f"select k, n, z, {bounds['lower']}, {bounds['upper']}"
        f" from (values {values}) as grid (k, n, z) order by k, n, z"
    )
    assert len(rows) == len(cases) * len(zs)
    for k, n, z, low, high in rows:
        want_low, want_high = stats.wilson_interval(k, n, z)
        assert low == pytest.approx(want_low, abs=1e-12), (k, n, z)
        assert high == pytest.approx(want_high, abs=1e-12), (k, n, z)
