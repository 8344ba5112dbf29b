"""The statistics module against reference implementations (scipy, statsmodels) and
published values. No database."""

from __future__ import annotations

import math
import random

import pytest
from conftest import ClonedDatabase
from scipy import stats as scipy_stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from ai_gate import stats
from ai_gate.dbt_macros import render_macro

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


def test_quantile_bounds_cover_the_median() -> None:
    rng = random.Random(9)
    misses = 0
    for _ in range(400):
        values = sorted(rng.lognormvariate(8, 0.5) for _ in range(999))
        grid = [values[round(q * 10) - 1] for q in range(1, 100)]  # approx percentiles
        low_fraction, high_fraction = stats.quantile_rank_bounds(0.5, 999, Z95)
        low = stats.value_at_fraction(grid, low_fraction, "lower")
        high = stats.value_at_fraction(grid, high_fraction, "upper")
        assert low is not None and high is not None
        misses += not low <= math.exp(8) <= high
    assert misses / 400 <= 0.05
    assert stats.value_at_fraction(list(range(1, 100)), 0.001, "lower") is None
    assert stats.value_at_fraction(list(range(1, 100)), 0.995, "upper") is None


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
