"""Comparing an eval run with a baseline run (`ai-gate run FILE --baseline RUN`).

For each rate metric: did the candidate regress against the baseline by more than the
metric's tolerance (ai_eval_gate_definitions.baseline_tolerance_pp), significantly?
When the runs share case_ids the comparison is paired on those cases (a case tried
several times in a run, repeats or providers, is good when every attempt is):
McNemar's exact test when the tolerance is 0, else a one-sided z-test of the paired
difference against the tolerance. Otherwise the runs are compared unpaired,
by Newcombe's score interval for the difference (its p-value is the level at which the
interval's bound reaches the tolerance). Holm's correction across the metrics keeps
the chance of failing a candidate that did not regress at BASELINE_ALPHA.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from statistics import NormalDist

import psycopg
from psycopg import sql

from ai_gate import stats
from ai_gate.database import Database
from ai_gate.errors import InputRejected
from ai_gate.evals.metrics import rate_sample_fields
from ai_gate.evals.stored_runs import require_run

BASELINE_ALPHA = 0.05
# The sample field each rate metric is computed from (macro eval_rate_metrics).
SAMPLE_FIELD_OF_METRIC = rate_sample_fields()
MAX_FLIPPED_CASES = 20
_NORMAL = NormalDist()


@dataclass(frozen=True)
class MetricComparison:
    metric: str
    direction: str  # "higher" (a minimum gate's metric) or "lower" is better
    tolerance_pp: float
    method: str  # paired-mcnemar | paired-z | unpaired-newcombe | none
    baseline_value: float | None
    candidate_value: float | None
    delta_pp: float | None  # the regression: positive is worse
    pairs: int
    p_value: float | None
    adjusted_p_value: float | None
    regressed: bool
    flipped_case_ids: list[str] = field(default_factory=list)  # pass -> fail, capped


@dataclass(frozen=True)
class PairedCounts:
    pairs: int
    regressed: int  # good in the baseline, bad in the candidate
    improved: int
    flipped: list[str]


@dataclass(frozen=True)
class ArmRate:
    good: int  # successes in the metric's good direction
    trials: int


def paired_p_value(counts: PairedCounts, tolerance_pp: float) -> tuple[str, float]:
    if tolerance_pp == 0:
        return "paired-mcnemar", stats.mcnemar_exact_one_sided(counts.regressed, counts.improved)
    n = counts.pairs
    difference = (counts.regressed - counts.improved) / n
    variance = ((counts.regressed + counts.improved) / n - difference**2) / n
    if variance <= 0:
        return "paired-z", 1.0 if difference <= tolerance_pp / 100 else 0.0
    z = (difference - tolerance_pp / 100) / math.sqrt(variance)
    return "paired-z", 1 - _NORMAL.cdf(z)


def unpaired_p_value(baseline: ArmRate, candidate: ArmRate, tolerance_pp: float) -> float:
    """The smallest one-sided level at which Newcombe's lower bound on (baseline good
    rate - candidate good rate) exceeds the tolerance: 1 when it never does."""

    def lower(z: float) -> float:
        interval = stats.newcombe_difference(
            baseline.good, baseline.trials, candidate.good, candidate.trials, z
        )
        assert interval is not None
        return interval[0]

    threshold = tolerance_pp / 100
    if lower(0.0) <= threshold:
        return 1.0
    low, high = 0.0, 1.0
    while lower(high) > threshold and high < 40:
        high *= 2
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if lower(middle) > threshold else (low, middle)
    return 1 - _NORMAL.cdf(low)


def compare(
    metric: str,
    direction: str,
    tolerance_pp: float,
    baseline: ArmRate,
    candidate: ArmRate,
    paired: PairedCounts | None,
) -> MetricComparison:
    """One metric; its p-value is adjusted later (holm_adjust)."""

    def value(rate: ArmRate) -> float | None:
        if not rate.trials:
            return None
        good = rate.good / rate.trials
        return good if direction == "higher" else 1 - good

    if not baseline.trials or not candidate.trials:
        return MetricComparison(
            metric,
            direction,
            tolerance_pp,
            "none",
            value(baseline),
            value(candidate),
            None,
            0,
            None,
            None,
            False,
        )
    if paired is not None and paired.pairs > 0:
        method, p_value = paired_p_value(paired, tolerance_pp)
        delta = (paired.regressed - paired.improved) / paired.pairs * 100
        flipped = paired.flipped[:MAX_FLIPPED_CASES]
        pairs = paired.pairs
    else:
        method, p_value = "unpaired-newcombe", unpaired_p_value(baseline, candidate, tolerance_pp)
        delta = (baseline.good / baseline.trials - candidate.good / candidate.trials) * 100
        flipped, pairs = [], 0
    return MetricComparison(
        metric,
        direction,
        tolerance_pp,
        method,
        value(baseline),
        value(candidate),
        delta,
        pairs,
        p_value,
        None,
        False,
        flipped,
    )


def holm_adjust(comparisons: list[MetricComparison]) -> list[MetricComparison]:
    tested = {c.metric: c.p_value for c in comparisons if c.p_value is not None}
    adjusted = stats.holm(tested) if tested else {}
    result = []
    for c in comparisons:
        p = adjusted.get(c.metric)
        regressed = p is not None and p < BASELINE_ALPHA and (c.delta_pp or 0) > c.tolerance_pp
        result.append(
            MetricComparison(**{**asdict(c), "adjusted_p_value": p, "regressed": regressed})
        )
    return result


def resolve(conn: psycopg.Connection, database: Database, baseline: str, environment: str) -> str:
    """The baseline's run id: `latest-passed` is the environment's newest passed,
    non-synthetic run; an id must be a judged, non-synthetic run of the environment."""
    runs = database.relation("ai_eval_runs")
    if baseline == "latest-passed":
        row = conn.execute(
            sql.SQL(
                "select run_id from {} where environment = %s and status = 'passed'"
                " and not is_synthetic order by started_at desc, run_id desc limit 1"
            ).format(runs),
            (environment,),
        ).fetchone()
        if row is None:
            raise InputRejected(
                f"--baseline latest-passed: no passed, non-synthetic run in {environment!r}"
            )
        return str(row[0])
    require_run(conn, database, baseline, option="--baseline", environment=environment, judged=True)
    return baseline


def comparisons(
    conn: psycopg.Connection, database: Database, baseline_id: str, candidate_id: str
) -> list[MetricComparison]:
    """Every rate metric of the two runs, compared and Holm-adjusted."""
    definitions = conn.execute(
        sql.SQL(
            "select metric, comparator, baseline_tolerance_pp from {}"
            " where baseline_tolerance_pp is not null order by gate"
        ).format(database.relation("ai_eval_gate_definitions"))
    ).fetchall()
    samples = database.relation("ai_eval_samples")
    results = []
    for metric, comparator, tolerance in definitions:
        column = sql.Identifier(SAMPLE_FIELD_OF_METRIC[metric])
        good = sql.SQL("{}") if comparator == ">=" else sql.SQL("not {}")
        good_expression = good.format(column)
        rates = conn.execute(
            sql.SQL(
                "select run_id, count(*) filter (where {good}), count({column}) from {samples}"
                " where run_id in (%s, %s) group by run_id"
            ).format(good=good_expression, column=column, samples=samples),
            (baseline_id, candidate_id),
        ).fetchall()
        by_run = {run: ArmRate(int(g), int(n)) for run, g, n in rates}
        paired_row = conn.execute(
            sql.SQL(
                "with cases as ("
                " select run_id, case_id, bool_and({good}) as good from {samples}"
                " where run_id in (%(baseline)s, %(candidate)s) and case_id is not null"
                " and {column} is not null group by run_id, case_id),"
                " pairs as (select b.case_id, b.good as baseline_good, c.good as candidate_good"
                " from cases as b inner join cases as c on b.case_id = c.case_id"
                " where b.run_id = %(baseline)s and c.run_id = %(candidate)s)"
                " select count(*),"
                " count(*) filter (where baseline_good and not candidate_good),"
                " count(*) filter (where candidate_good and not baseline_good),"
                " (array_agg(case_id order by case_id)"
                "  filter (where baseline_good and not candidate_good))[1:%(cap)s]"
                " from pairs"
            ).format(good=good_expression, column=column, samples=samples),
            {"baseline": baseline_id, "candidate": candidate_id, "cap": MAX_FLIPPED_CASES},
        ).fetchone()
        assert paired_row is not None
        paired = (
            PairedCounts(
                int(paired_row[0]),
                int(paired_row[1]),
                int(paired_row[2]),
                list(paired_row[3] or []),
            )
            if paired_row[0]
            else None
        )
        results.append(
            compare(
                metric,
                "higher" if comparator == ">=" else "lower",
                float(tolerance),
                by_run.get(baseline_id, ArmRate(0, 0)),
                by_run.get(candidate_id, ArmRate(0, 0)),
                paired,
            )
        )
    return holm_adjust(results)


def as_json(baseline_id: str, results: list[MetricComparison]) -> dict[str, object]:
    return {
        "baseline_run_id": baseline_id,
        "alpha": BASELINE_ALPHA,
        "regressed": any(result.regressed for result in results),
        "metrics": [asdict(result) for result in results],
    }


def stored_comparisons(comparison: dict[str, object] | None) -> list[MetricComparison]:
    """The comparisons of a stored verdict (`as_json`), typed again (a field added
    after a verdict was stored is None in it)."""
    names = [f.name for f in fields(MetricComparison)]
    return [
        MetricComparison(
            **{
                name: metric.get(name)
                for name in names
                if name in metric or name != "flipped_case_ids"
            }
        )
        for metric in (comparison or {}).get("metrics", [])  # type: ignore[union-attr]
    ]
