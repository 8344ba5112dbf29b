"""The calibration's exact calculations (no simulation): the probability that a
guardrail's e-process ever says ok at a rollout's looks (dynamic programming), and the
fixed-sample optimum it is compared with (the exact one-sided binomial test)."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from ai_gate import stats


def _binomial_pmf(n: int, q: float) -> np.ndarray:
    k = np.arange(n + 1)
    log_pmf = np.array(
        [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) for i in range(n + 1)]
    )
    with np.errstate(divide="ignore"):
        log_pmf = log_pmf + k * math.log(q) + (n - k) * math.log1p(-q)
    return np.exp(log_pmf)


def go_probability(q: float, q0: float, alpha: float, looks: Iterable[int]) -> float:
    """Exact probability that the e-process against "the rate is at least q0" ever
    reaches 1/alpha at one of `looks` (increasing cumulative trial counts) when events
    happen at rate q: dynamic programming over (trials, events), the paths that reached
    it removed at each look. Probabilities below 1e-18 at the edges of the count's
    distribution are dropped (their sum is shown by what remains, 1 - go - alive)."""
    alive = np.array([1.0])  # P(events = offset + i, never reached)
    offset, trials, reached = 0, 0, 0.0
    kernels: dict[int, np.ndarray] = {}
    for look in looks:
        n = look - trials
        if n not in kernels:
            kernels[n] = _binomial_pmf(n, q)
        alive = np.convolve(alive, kernels[n])
        trials = look
        most = stats.most_events_shown_below(trials, q0, alpha)
        if most is not None and most >= offset:
            cut = min(most - offset + 1, len(alive))
            reached += float(alive[:cut].sum())
            alive[:cut] = 0.0
        kept = np.nonzero(alive > 1e-18)[0]
        if len(kept) == 0:
            break
        offset += int(kept[0])
        alive = alive[kept[0] : kept[-1] + 1]
    return reached


def fixed_sample_rows(rate: float, ceiling: float, alpha: float, power: float) -> int:
    """The fixed-sample optimum: the least n at which the exact one-sided binomial test
    of "rate >= ceiling" at `alpha`, planned for n rows and looked at once, says ok
    with probability `power` when the true rate is `rate` (exact, no simulation)."""
    critical = -1  # the most events at n that the test still calls ok
    for n in range(1, 1_000_000):
        while critical + 1 <= n and stats.log_binomial_cdf(critical + 1, n, ceiling) <= math.log(
            alpha
        ):
            critical += 1
        if critical >= 0 and stats.log_binomial_cdf(critical, n, rate) >= math.log(power):
            return n
    raise ValueError("no fixed sample size reaches that power")
