"""The eval metrics, as the dbt project declares them (var `eval_metrics` in
dbt_project.yml): read here, never restated."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from ai_gate.project_config import project_var

KINDS = ("rate", "quantile", "repeats")  # repeats: from the cases tried more than once


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
        if bool(metric.field) == (metric.kind == "repeats"):
            raise RuntimeError(
                f"dbt_project.yml: eval metric {metric.name}: a {metric.kind} metric "
                + ("has no field" if metric.kind == "repeats" else "needs a field")
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


def rate_sample_fields() -> dict[str, str]:
    """Each rate metric's sample field (a boolean of the record)."""
    return {metric.name: metric.field for metric in eval_metrics() if metric.kind == "rate"}


def boolean_fields(*, required: bool) -> tuple[str, ...]:
    """The record fields the rate metrics read (booleans), required ones or the others."""
    return tuple(
        metric.field
        for metric in eval_metrics()
        if metric.kind == "rate" and metric.required == required
    )
