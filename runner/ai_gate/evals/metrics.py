"""The eval metrics, as the dbt project declares them (var `eval_metrics` in
dbt_project.yml): read here, never restated."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from ai_gate.project_config import project_var

KINDS = ("rate", "quantile")


@dataclass(frozen=True)
class EvalMetric:
    name: str  # the summary's column and the gates' metric
    field: str  # the eval record field it is computed from
    kind: str  # rate | quantile
    required: bool = False  # every record carries the field
    description: str = ""  # the field's, in the record schema


@cache
def eval_metrics() -> tuple[EvalMetric, ...]:
    declared = project_var("eval_metrics")
    if not isinstance(declared, list) or not declared:
        raise RuntimeError("dbt_project.yml: vars.eval_metrics must be a non-empty list")
    metrics = []
    for entry in declared:
        metric = EvalMetric(
            str(entry["name"]),
            str(entry["field"]),
            str(entry["kind"]),
            bool(entry.get("required", False)),
            str(entry.get("description", "")),
        )
        if metric.kind not in KINDS:
            raise RuntimeError(
                f"dbt_project.yml: eval metric {metric.name}: kind must be one of "
                f"{', '.join(KINDS)}, not {metric.kind!r}"
            )
        metrics.append(metric)
    return tuple(metrics)


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
