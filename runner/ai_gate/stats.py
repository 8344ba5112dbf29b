"""Statistics for the release gate and the canary: score intervals for rates and
their differences, a time-uniform critical value for repeated looks, distribution-free
quantile bounds, exact binomial and McNemar tests, Holm's correction; and the
durations (`90m`, `2d`) that windows of evidence are given in.

Pure functions of counts, with no database and no third-party dependency; tests check
them against scipy and statsmodels and against published values (Newcombe 1998).
Rates near 0 or 1 and small counts are the normal case here (a safety failure rate of
0.1% on a few hundred samples), which is why every interval is score-based (Wilson,
Newcombe) rather than Wald.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta
from statistics import NormalDist

_NORMAL = NormalDist()
DURATION = re.compile(r"(\d+)\s*([smhd])")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def z_one_sided(alpha: float) -> float:
    """The standard normal quantile with `alpha` above it."""
    return _NORMAL.inv_cdf(1.0 - alpha)


def wilson_interval(successes: int, trials: int, z: float) -> tuple[float, float] | None:
    """Wilson score interval for a proportion at critical value `z`, clamped to [0, 1]
    (at a rate of exactly 0 or 1 rounding leaves a bound a few ulps outside); None
    without trials."""
    if trials <= 0:
        return None
    p = successes / trials
    z2 = z * z
    centre = p + z2 / (2 * trials)
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    denominator = 1 + z2 / trials
    # At a rate of exactly 0 or 1 the bound on that side is exactly 0 or 1 (rounding
    # would leave it a few ulps inside or outside).
    low = 0.0 if successes <= 0 else max(0.0, (centre - half) / denominator)
    high = 1.0 if successes >= trials else min(1.0, (centre + half) / denominator)
    return low, high


def newcombe_difference(x1: int, n1: int, x2: int, n2: int, z: float) -> tuple[float, float] | None:
    """Newcombe's hybrid score interval (1998, method 10) for p1 - p2 at critical
    value `z`: each side combines the two Wilson intervals. None if an arm is empty."""
    first, second = wilson_interval(x1, n1, z), wilson_interval(x2, n2, z)
    if first is None or second is None:
        return None
    p1, p2 = x1 / n1, x2 / n2
    (l1, u1), (l2, u2) = first, second
    difference = p1 - p2
    low = difference - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = difference + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return max(-1.0, low), min(1.0, high)


def mixture_rho(alpha: float, target_samples: float) -> float:
    """The normal mixture's prior precision that makes the boundary tightest near
    `target_samples` (Waudby-Smith et al. 2024, in these units)."""
    log_term = 2 * math.log(1 / alpha)
    return target_samples / (log_term + math.log(1 + log_term))


def time_uniform_z(samples: float, alpha: float, rho: float) -> float:
    """One-sided critical value, in standard errors, that holds at every look at once.

    With S_t a sum of t standardized increments, the half-normal mixture of the
    exponential supermartingales exp(l S_t - l^2 t / 2) over l > 0 (prior density
    2 N(0, 1/rho)) is
        M_t = 2 sqrt(rho / (t + rho)) exp(S_t^2 / (2 (t + rho))) Phi(S_t / sqrt(t + rho)),
    and Ville's inequality gives P(exists t: M_t >= 1 / alpha) <= alpha. So
    S_t >= z_t sqrt(t), with z_t solving M_t = 1 / alpha, happens at some look with
    probability at most alpha, however many looks there are and whenever one stops.
    The price over a fixed-sample z is a z that grows like sqrt(log t)."""
    t = max(samples, 1.0)
    scale = math.sqrt(t / (t + rho))  # S / sqrt(t + rho) in units of z
    log_target = math.log(1 / alpha) - math.log(2) - 0.5 * math.log(rho / (t + rho))

    def excess(z: float) -> float:
        w = z * scale
        return w * w / 2 + math.log(max(_NORMAL.cdf(w), 1e-300)) - log_target

    low, high = 0.0, 1.0
    while excess(high) < 0:
        high *= 2
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if excess(middle) < 0 else (low, middle)
    return high


def quantile_rank_bounds(quantile: float, samples: int, z: float) -> tuple[float, float]:
    """Distribution-free bounds, as fractions of the sorted sample, between which the
    population `quantile` lies at critical value `z` (the count of values below it is
    binomial; normal approximation with a continuity half-step)."""
    spread = z * math.sqrt(samples * quantile * (1 - quantile)) + 0.5
    return (quantile * samples - spread) / samples, (quantile * samples + spread) / samples


def value_at_fraction(grid: list[float], fraction: float, side: str) -> float | None:
    """The sample quantile at `fraction` from a grid of the 1st..99th percentiles,
    rounded outwards (down for a lower bound, up for an upper one, so the bound stays
    valid); None where the grid does not reach."""
    steps = len(grid) + 1  # grid[i] is the (i+1)/steps quantile
    position = fraction * steps
    index = math.floor(position + 1e-9) if side == "lower" else math.ceil(position - 1e-9)
    if index < 1 or index > len(grid):
        return None
    return grid[index - 1]


def _log_binomial_pmf(k: int, n: int, p: float) -> float:
    if p <= 0.0:
        return 0.0 if k == 0 else -math.inf
    if p >= 1.0:
        return 0.0 if k == n else -math.inf
    return (
        math.lgamma(n + 1)
        - math.lgamma(k + 1)
        - math.lgamma(n - k + 1)
        + k * math.log(p)
        + (n - k) * math.log1p(-p)
    )


def _tail_sum(start: int, step: int, n: int, p: float) -> float:
    """Sum of the binomial pmf from `start` outwards (step -1 or +1) until the terms,
    which fall off geometrically in a tail, stop mattering."""
    total = 0.0
    outcome = start
    while 0 <= outcome <= n:
        term = math.exp(_log_binomial_pmf(outcome, n, p))
        total += term
        if term < total * 1e-17:
            break
        outcome += step
    return total


def binomial_test(k: int, n: int, p: float) -> float:
    """Exact two-sided binomial test of k successes in n at rate p: the probability of
    every outcome no more likely than k (scipy.stats.binomtest's rule). The pmf rises
    to its mode and falls after it, so the outcomes counted are two tails: from k
    outwards, and on the other side of the mode from the first outcome no more likely
    than k (found by bisection). Each tail is summed until its terms vanish, so a
    million trials cost a few hundred terms, not a million."""
    if n == 0:
        return 1.0
    tolerance = 1e-7  # relative, as scipy: ties within rounding count as as-likely
    observed = _log_binomial_pmf(k, n, p) + tolerance
    mode = min(n, max(0, math.floor((n + 1) * p)))
    if _log_binomial_pmf(mode, n, p) <= observed:
        return 1.0  # k is as likely as the mode
    if k <= mode:
        low_tail_start = k
        lo, hi = mode, n + 1  # first outcome above the mode no more likely than k
        while lo + 1 < hi:
            middle = (lo + hi) // 2
            if _log_binomial_pmf(middle, n, p) <= observed:
                hi = middle
            else:
                lo = middle
        high_tail_start = hi
    else:
        high_tail_start = k
        lo, hi = -1, mode  # last outcome below the mode no more likely than k
        while lo + 1 < hi:
            middle = (lo + hi) // 2
            if _log_binomial_pmf(middle, n, p) <= observed:
                lo = middle
            else:
                hi = middle
        low_tail_start = lo
    total = 0.0
    if low_tail_start >= 0:
        total += _tail_sum(low_tail_start, -1, n, p)
    if high_tail_start <= n:
        total += _tail_sum(high_tail_start, +1, n, p)
    return min(1.0, total)


def binomial_tail_at_least(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p)."""
    return min(1.0, sum(math.exp(_log_binomial_pmf(i, n, p)) for i in range(k, n + 1)))


def mcnemar_exact_one_sided(regressed: int, improved: int) -> float:
    """Exact one-sided McNemar test that the candidate is worse than the baseline on
    paired cases: of the discordant pairs, how surprising `regressed` (pass -> fail)
    is against `improved` (fail -> pass) if either way were equally likely."""
    discordant = regressed + improved
    if discordant == 0:
        return 1.0
    return binomial_tail_at_least(regressed, discordant, 0.5)


def holm(p_values: dict[str, float]) -> dict[str, float]:
    """Holm's step-down adjusted p-values (family-wise error at most alpha)."""
    ordered = sorted(p_values.items(), key=lambda item: item[1])
    adjusted: dict[str, float] = {}
    running = 0.0
    count = len(ordered)
    for rank, (name, p_value) in enumerate(ordered):
        running = max(running, min(1.0, (count - rank) * p_value))
        adjusted[name] = running
    return adjusted


# A window reaches back from now; a century holds any data ai-gate reads, and a longer
# one is read as a century (`--since 999999999d`: everything, not an overflow).
LONGEST_DURATION = timedelta(days=36_525)


def parse_duration(text: str) -> timedelta:
    """`90m`, `1h`, `2d`, `1h30m` -> timedelta: positive, a century at most."""
    compact = text.replace(" ", "")
    parts = DURATION.findall(compact)
    if not parts or "".join(f"{n}{u}" for n, u in parts) != compact:
        raise ValueError(f"not a duration: {text!r} (use e.g. 30m, 1h, 2d)")
    delta = timedelta()
    try:
        for number, unit in parts:
            delta += timedelta(**{UNITS[unit]: int(number)})
    except OverflowError:
        delta = timedelta.max
    if delta <= timedelta():
        raise ValueError(f"duration must be positive: {text!r}")
    return min(delta, LONGEST_DURATION)
