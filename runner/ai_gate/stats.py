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

import functools
import math
import re
from collections.abc import Callable
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


def time_uniform_z_near(samples: float, alpha: float, target_samples: float) -> float:
    """time_uniform_z with the mixture tightest near `target_samples` (mixture_rho): the
    critical value the canary's rules use."""
    return time_uniform_z(samples, alpha, mixture_rho(alpha, target_samples))


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
        total += math.exp(_log_tail(low_tail_start, -1, n, p))
    if high_tail_start <= n:
        total += math.exp(_log_tail(high_tail_start, +1, n, p))
    return min(1.0, total)


def binomial_tail_at_least(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p)."""
    return math.exp(log_binomial_sf(k, n, p))


# The terms of a tail summed one by one before the rest goes to numpy in chunks.
_SCALAR_TERMS = 64


def _log_tail(start: int, step: int, n: int, p: float, floor: float = 0.0) -> float:
    """log of the binomial pmf summed from `start` outwards (step -1 or +1), where the
    pmf falls at every step (`start` is on the far side of the mode). Each term is the
    previous one times the pmf's ratio, relative to the first, so nothing underflows:
    the result is -inf only when the tail is exactly 0. Terms stop mattering below
    1e-17 of the sum, or below `floor` in absolute terms (a tail that is subtracted
    from 1 needs no more). Long tails (a baseline arm of 100,000 rows at q0 = 1/2 has
    a thousand terms that matter) are summed in numpy chunks: the calibration
    benchmark evaluates millions of them."""
    first = _log_binomial_pmf(start, n, p)
    if first == -math.inf:
        return -math.inf
    odds = p / (1.0 - p)
    # terms below this, relative to the first, are below the floor
    negligible = math.exp(min(700.0, max(-700.0, math.log(floor) - first))) if floor > 0 else 0.0
    total, term, outcome = 1.0, 1.0, start
    # The terms that matter span about 9 standard deviations of the count at most (a
    # relative 1e-17 is e^-39). A tail that short is summed one by one, which costs
    # less than numpy's per-call overhead (the calibration sums hundreds of thousands
    # of them); a longer one in numpy chunks of about that span.
    span = 9.0 * math.sqrt(n * p * (1.0 - p)) + 2.0
    for _ in range(_SCALAR_TERMS if span <= _SCALAR_TERMS else 0):
        if not ((outcome > 0) if step < 0 else (outcome < n)):
            return first + math.log(total)
        if step < 0:
            term *= outcome / ((n - outcome + 1) * odds)  # pmf(k - 1) / pmf(k)
        else:
            term *= (n - outcome) * odds / (outcome + 1)  # pmf(k + 1) / pmf(k)
        total += term
        outcome += step
        if term < total * 1e-17 or term < negligible:
            return first + math.log(total)
    # imported here: `ai-gate run` and `check` never sum a tail, and numpy costs them
    # about 70 ms and 13 MB at start-up (measured with `ai-gate bench`)
    import numpy as np

    chunk = min(4096, max(16, math.ceil(span)))
    while (outcome > 0) if step < 0 else (outcome < n):
        if step < 0:
            outcomes = np.arange(outcome, max(outcome - chunk, 0), -1, dtype=np.float64)
            ratios = outcomes / ((n - outcomes + 1) * odds)  # pmf(k - 1) / pmf(k)
        else:
            outcomes = np.arange(outcome, min(outcome + chunk, n), dtype=np.float64)
            ratios = (n - outcomes) * odds / (outcomes + 1)  # pmf(k + 1) / pmf(k)
        terms = term * np.cumprod(ratios)
        total += float(terms.sum())
        term = float(terms[-1])
        outcome += step * len(terms)
        if term < total * 1e-17 or term < negligible:
            break
        chunk = min(chunk * 4, 4096)
    return first + math.log(total)


def _mode(n: int, p: float) -> int:
    return min(n, max(0, math.floor((n + 1) * p)))


def log_binomial_cdf(k: int, n: int, p: float) -> float:
    """log P(X <= k) for X ~ Binomial(n, p), exact in log space at any size: below the
    mode the tail is summed directly (never as 1 - the other tail, which cancels to
    nothing when the answer is below about 1e-16); -inf only when it is 0."""
    if k < 0:
        return -math.inf
    if k >= n or p <= 0.0:
        return 0.0
    if p >= 1.0:
        return -math.inf
    if k < _mode(n, p):
        return _log_tail(k, -1, n, p)
    # at or above the mode the lower tail is most of the mass and the upper one small
    return math.log1p(-min(1.0, math.exp(_log_tail(k + 1, +1, n, p, floor=1e-18))))


def log_binomial_sf(k: int, n: int, p: float) -> float:
    """log P(X >= k) for X ~ Binomial(n, p), the mirror of log_binomial_cdf."""
    return (
        log_binomial_cdf(n - k, n, 1.0 - p)
        if 0.0 < p < 1.0
        else (0.0 if k <= 0 or (p >= 1.0 and k <= n) else -math.inf)
    )


def _log_beta_mixture(x: int, t: int, q0: float) -> float:
    """log B(x+1, t-x+1) - log of the null likelihood q0^x (1-q0)^(t-x)."""
    return (
        math.lgamma(x + 1)
        + math.lgamma(t - x + 1)
        - math.lgamma(t + 2)
        - x * math.log(q0)
        - (t - x) * math.log1p(-q0)
    )


def log_e_value_rate_below(x: int, t: int, q0: float) -> float:
    """log of an e-process against "the rate is at least q0", after x events in t trials.

    The mixture, under a uniform prior on q in [0, q0], of the likelihood ratios
    q^x (1-q)^(t-x) / (q0^x (1-q0)^(t-x)) is a test supermartingale under every rate
    q >= q0 (each factor's expectation, r q/q0 + (1-r)(1-q)/(1-q0) under a rate r, is at
    most 1 when q <= q0 <= r), so P(it ever reaches 1/alpha) <= alpha, however often it
    is looked at (Ville). In closed form:
        B(x+1, t-x+1) P(Binomial(t+1, q0) >= x+1) / (q0 q0^x (1-q0)^(t-x)).
    0 (log) with no trials; exact for any counts."""
    if t <= 0 or q0 <= 0.0:
        return 0.0  # nothing shows a rate below 0
    if q0 >= 1.0:
        return math.inf if x < t else 0.0
    return _log_beta_mixture(x, t, q0) + log_binomial_sf(x + 1, t + 1, q0) - math.log(q0)


def log_e_value_rate_above(x: int, t: int, q0: float) -> float:
    """log of an e-process against "the rate is at most q0": the mirror of
    log_e_value_rate_below, a uniform prior on q in [q0, 1]:
        B(x+1, t-x+1) P(Binomial(t+1, q0) <= x) / ((1-q0) q0^x (1-q0)^(t-x))."""
    if t <= 0 or q0 >= 1.0:
        return 0.0  # nothing shows a rate above 1
    if q0 <= 0.0:
        return math.inf if x > 0 else 0.0
    return _log_beta_mixture(x, t, q0) + log_binomial_cdf(x, t + 1, q0) - math.log1p(-q0)


def _first_true(predicate: Callable[[int], bool], low: int, high: int, guess: int) -> int | None:
    """The least x in [low, high] with predicate(x), for a predicate false then true;
    None if it is never true. Gallops out from `guess` (a good one costs a few calls
    instead of a bisection of the whole range), then bisects the bracket."""
    if not predicate(high):
        return None
    guess = min(max(guess, low), high)
    step = 1
    if predicate(guess):
        hi = guess  # true here: find a false below
        lo = guess - step
        while lo >= low and predicate(lo):
            hi, step = lo, step * 2
            lo = hi - step
        lo = max(lo, low - 1)
    else:
        lo = guess  # false here: find a true above
        hi = guess + step
        while hi < high and not predicate(hi):
            lo, step = hi, step * 2
            hi = lo + step
        hi = min(hi, high)
    while lo + 1 < hi:  # predicate(lo) false (or lo below low), predicate(hi) true
        middle = (lo + hi) // 2
        lo, hi = (lo, middle) if predicate(middle) else (middle, hi)
    return hi


# The last boundary found per (side, q0, alpha, size of t): where a search for the
# next t starts (the boundary moves by about q0 per trial), so a sequence of looks at
# growing arms costs a few evaluations each. The answers never depend on it, only the
# time to find them.
_LAST_BOUNDARY: dict[tuple[int, float, float, int], tuple[int, int]] = {}


def _boundary_guess(t: int, q0: float, alpha: float, side: int) -> int:
    """Where the e-process's boundary on the count is, roughly: from the last one found
    for these (side, q0, alpha), else a normal approximation of the mixture (Laplace's
    method); only to start the search near the answer."""
    last = _LAST_BOUNDARY.get((side, q0, alpha, t.bit_length()))
    if last is not None:
        return last[1] + round(q0 * (t - last[0]))
    variance = max(t * q0 * (1 - q0), 1e-9)
    squared = 2 * (
        math.log(1 / alpha) - math.log(1 / q0) - 0.5 * math.log(2 * math.pi * q0 * (1 - q0) / t)
    )
    z = math.sqrt(max(squared, 0.0))
    return round(q0 * t + side * z * math.sqrt(variance))


@functools.lru_cache(maxsize=65_536)
def most_events_shown_below(t: int, q0: float, alpha: float) -> int | None:
    """The largest count x of t for which log_e_value_rate_below reaches 1/alpha (it
    falls as x grows); None if not even 0 events would show the rate below q0."""
    threshold = math.log(1 / alpha)

    def too_many(x: int) -> bool:
        return log_e_value_rate_below(x, t, q0) < threshold

    if t <= 0 or too_many(0):
        return None
    first = _first_true(too_many, 0, t, _boundary_guess(t, q0, alpha, -1) + 1)
    most = t if first is None else first - 1
    _LAST_BOUNDARY[(-1, q0, alpha, t.bit_length())] = (t, most)
    return most


@functools.lru_cache(maxsize=65_536)
def fewest_events_shown_above(t: int, q0: float, alpha: float) -> int | None:
    """The smallest count x of t for which log_e_value_rate_above reaches 1/alpha (it
    rises with x); None if not even t events would show the rate above q0."""
    threshold = math.log(1 / alpha)
    if t <= 0:
        return None
    fewest = _first_true(
        lambda x: log_e_value_rate_above(x, t, q0) >= threshold,
        0,
        t,
        _boundary_guess(t, q0, alpha, +1),
    )
    if fewest is not None:
        _LAST_BOUNDARY[(+1, q0, alpha, t.bit_length())] = (t, fewest)
    return fewest


def _crossing(f: Callable[[float], float], low: float, high: float) -> float:
    """The point in [low, high] where f, negative at low and not at high, crosses 0:
    regula falsi with the Illinois modification (a few evaluations of a smooth f, not
    a bisection's sixty), to 1e-12 of the bracket's scale."""
    f_low, f_high = f(low), f(high)
    side = 0
    for _ in range(100):
        if high - low <= 1e-12 * max(high, 1e-300):
            break
        middle = (low * f_high - high * f_low) / (f_high - f_low)
        if not low < middle < high:
            middle = (low + high) / 2
        value = f(middle)
        if value < 0:
            low, f_low = middle, value
            if side == -1:
                f_high /= 2
            side = -1
        else:
            high, f_high = middle, value
            if side == +1:
                f_low /= 2
            side = +1
    return high


def rate_bound(x: int, t: int, alpha: float, side: str) -> float | None:
    """A bound on a rate from x events in t trials that holds at every look at once
    with error at most alpha: the `upper` bound is the least q0 for which the e-process
    against "the rate is at least q0" reaches 1/alpha, the `lower` the greatest q0 for
    which the one against "at most q0" does (the confidence sequence of the same
    e-processes the rules decide with). None without trials."""
    if t <= 0:
        return None
    threshold = math.log(1 / alpha)
    if side == "upper":
        if x >= t:
            return 1.0
        # rises with q0: negative below the bound
        return _crossing(
            lambda q: log_e_value_rate_below(x, t, q) - threshold if q < 1.0 else math.inf,
            x / t,
            1.0,
        )
    if x <= 0:
        return 0.0
    # falls with q0: negative (not shown) above the bound
    return _crossing(
        lambda q: threshold - log_e_value_rate_above(x, t, q) if q > 0.0 else -math.inf,
        0.0,
        x / t,
    )


def quantile_ranks(quantile: float, t: int, alpha: float) -> tuple[int | None, int | None]:
    """1-based ranks (lower, upper) of the order statistics of t values between which
    the population `quantile` lies at every look, each side with error at most alpha
    (Howard & Ramdas 2022, Thm 1, from the e-processes on the count above a value).
    The upper bound is the value with the most values above it that still show that
    fewer than 1 - quantile of the population lie above; the lower bound mirrors it.
    None where the data cannot bound that side yet."""
    above = 1.0 - quantile
    most = most_events_shown_below(t, above, alpha)
    fewest = fewest_events_shown_above(t, above, alpha)
    upper = None if most is None else max(1, t - most)
    lower = None if fewest is None else t - fewest + 1
    return lower, upper


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
