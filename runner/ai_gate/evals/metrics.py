"""The eval metrics, as the dbt project declares them (var `eval_metrics` in
dbt_project.yml): read here, never restated."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from ai_gate.project_config import project_var

# repeats: from the cases tried more than once; mean: the mean of a per-sample amount;
# cost_per_pass: the cost of the run's attempts over how many passed; baseline_ratio:
# a mean metric of the run over its baseline run's
KINDS = ("rate", "quantile", "repeats", "mean", "cost_per_pass", "baseline_ratio")
# The kinds computed from no field of their own.
FIELDLESS_KINDS = ("repeats", "cost_per_pass", "baseline_ratio")
# The kinds whose field is an amount (a number >= 0), and the types it may have.
AMOUNT_KINDS = ("quantile", "mean")
AMOUNT_TYPES = ("number", "integer")


@dataclass(frozen=True)
class EvalMetric:
    name: str  # the summary's column and the gates' metric
    field: str  # the eval record field it is computed from ("" for kind repeats)
    kind: str  # rate | quantile | repeats
    required: bool = False  # every record carries the field
    description: str = ""  # the field's, in the record schema
    summary_v1: bool = False  # a column of ai_eval_run_summary_v1 (published columns)
    typical_rate: float = 1.0  # a healthy provider's share of true (simulate, benches)
    check: bool = False  # a check of the output an attempt must pass (flakiness)
    value_type: str = "number"  # an amount's: number or integer (kinds quantile, mean)
    # a gate on it without (enough) data is inconclusive, not skipped: missing is not 0
    fail_closed: bool = False
    of: str = ""  # a baseline_ratio's mean metric


@cache
def eval_metrics() -> tuple[EvalMetric, ...]:
    declared = project_var("eval_metrics")
    if not isinstance(declared, list) or not declared:
        raise RuntimeError("dbt_project.yml: vars.eval_metrics must be a non-empty list")
    metrics = []
    for entry in declared:
        metric = EvalMetric(
            name=str(entry["name"]),
            field=str(entry.get("field") or ""),
            kind=str(entry["kind"]),
            required=bool(entry.get("required", False)),
            description=str(entry.get("description", "")),
            summary_v1=bool(entry.get("summary_v1", False)),
            typical_rate=float(entry.get("typical_rate", 1.0)),
            check=bool(entry.get("check", False)),
            value_type=str(entry.get("type", "number")),
            fail_closed=bool(entry.get("fail_closed", False)),
            of=str(entry.get("of") or ""),
        )
        if metric.kind not in KINDS:
            raise RuntimeError(
                f"dbt_project.yml: eval metric {metric.name}: kind must be one of "
                f"{', '.join(KINDS)}, not {metric.kind!r}"
            )
        if metric.check and metric.kind != "rate":
            raise RuntimeError(
                f"dbt_project.yml: eval metric {metric.name}: only a rate's field is a check"
            )
        if bool(metric.field) == (metric.kind in FIELDLESS_KINDS):
            raise RuntimeError(
                f"dbt_project.yml: eval metric {metric.name}: a {metric.kind} metric "
                + ("has no field" if metric.kind in FIELDLESS_KINDS else "needs a field")
            )
        if metric.value_type not in AMOUNT_TYPES or (
            "type" in entry and metric.kind not in AMOUNT_KINDS
        ):
            raise RuntimeError(
                f"dbt_project.yml: eval metric {metric.name}: `type` is for the amounts "
                f"(kinds {', '.join(AMOUNT_KINDS)}): one of {', '.join(AMOUNT_TYPES)}"
            )
        if (metric.kind == "baseline_ratio") != bool(metric.of) or (
            metric.of and not any(m.name == metric.of and m.kind == "mean" for m in metrics)
        ):
            raise RuntimeError(
                f"dbt_project.yml: eval metric {metric.name}: a baseline_ratio names the "
                "mean metric before it that it divides (`of`), and only it has `of`"
            )
        for other in metrics:
            if metric.name == other.name or (metric.field and metric.field == other.field):
                raise RuntimeError(
                    f"dbt_project.yml: eval metrics {other.name} and {metric.name}: "
                    "names and fields must be unique"
                )
        metrics.append(metric)
    return tuple(metrics)


def metric_named(name: str) -> EvalMetric:
    for metric in eval_metrics():
        if metric.name == name:
            return metric
    raise KeyError(name)


def metric_names() -> tuple[str, ...]:
    return tuple(metric.name for metric in eval_metrics())


def rate_metric_names() -> tuple[str, ...]:
    return tuple(metric.name for metric in eval_metrics() if metric.kind == "rate")


def interval_metric_names() -> tuple[str, ...]:
    """The metrics whose summary has a 95% interval (ci_low, ci_high of summary v2)."""
    kinds = ("rate", "mean", "baseline_ratio")
    return tuple(metric.name for metric in eval_metrics() if metric.kind in kinds)


def rate_sample_fields() -> dict[str, str]:
    """Each rate metric's sample field (a boolean of the record)."""
    return {metric.name: metric.field for metric in eval_metrics() if metric.kind == "rate"}


def amount_fields() -> tuple[EvalMetric, ...]:
    """The metrics whose record field is an amount (a number >= 0, or an integer):
    the quantiles' (latency_ms) and the means' (tokens, cost)."""
    return tuple(metric for metric in eval_metrics() if metric.kind in AMOUNT_KINDS)


def mean_fields() -> tuple[EvalMetric, ...]:
    """The usage amounts (kind mean), in registry order: the sample table's last
    metric columns."""
    return tuple(metric for metric in eval_metrics() if metric.kind == "mean")


def boolean_fields(*, required: bool) -> tuple[str, ...]:
    """The record fields the rate metrics read (booleans), required ones or the others."""
    return tuple(
        metric.field
        for metric in eval_metrics()
        if metric.kind == "rate" and metric.required == required
    )
