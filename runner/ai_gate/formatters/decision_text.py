"""A canary decision as text: its rules, how each decided, the arms' counts (`ai-gate
canary evaluate`, and the decision part of `daily` and `rollback`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ai_gate.formatters.text_table import table
from ai_gate.formatters.verdict_cells import counted
from ai_gate.rollout.rules import judged_quality_metrics
from ai_gate.safe_text import printable

if TYPE_CHECKING:
    from ai_gate.rollout.canary import Decision
    from ai_gate.rollout.rule_types import Rate, Rule


def _fmt(value: float | None, metric: str = "") -> str:
    if value is None:
        return "n/a"
    if metric == "canary_share":
        return f"{value:.4f}"
    if any(word in metric for word in ("latency_ms", "rows", "samples", "latency")) and (
        "ratio" not in metric
    ):
        return f"{value:,.0f}"
    if metric.endswith("_pp") or "ratio" in metric:
        return f"{value:.2f}"
    if metric.endswith("_usd"):
        return f"${value:.6f}"
    return f"{value:.4f}"


def _arm_metric(metric: str) -> str:
    """A rule's per-arm values are the underlying metric (a rate, a latency, a count,
    a cost in dollars)."""
    return (
        metric.replace("_drop_pp", "")
        .replace("p50_latency_ratio", "p50_latency_ms")
        .replace("canary_share", "rows")
        .replace("p50_cost_ratio", "p50_cost_usd")
    )


def _rate(rate: Rate) -> str:
    if rate.rate is None:
        return "n/a (n=0)"
    return f"{rate.rate:.4f} n={rate.trials:,}"


def _evidence(rule: Rule) -> str:
    """How the rule decided: the e-values (the events and trials of a ceiling's), the
    bound that shows a breach, the one that shows go."""
    parts = []
    if "e_value" in rule.evidence and rule.evidence["e_value"] is not None:
        parts.append(f"e={rule.evidence['e_value']:.3g}")
    if "e_value_go" in rule.evidence:
        e = rule.evidence
        parts.append(
            f"{e['events']:,.0f} of {e['trials']:,.0f}:"
            f" e go {e['e_value_go']:.3g}, e breach {e['e_value_breach']:.3g}"
        )
    if rule.breach_bound is not None:
        parts.append(f"breach bound {_fmt(rule.breach_bound, rule.metric)}")
    if rule.go_bound is not None:
        margin = f" (margin {_fmt(rule.go_margin, rule.metric)})" if rule.go_margin else ""
        parts.append(f"go bound {_fmt(rule.go_bound, rule.metric)}{margin}")
    if "binomial_p_value" in rule.evidence:
        parts.append(f"p={rule.evidence['binomial_p_value']:.2g}")
    if rule.status == "no_data":
        parts.append("no cost data in either arm: does not block a go (require_cost)")
    return "; ".join(parts)


def _arms_table(decision: Decision) -> str:
    """Each arm's counts, latency and the eval rates the rules judged (registry order)."""
    judged = judged_quality_metrics(decision.rules)
    arms = list(decision.arms.values())
    quality = [metric for metric in (arms[0].quality if arms else {}) if metric in judged]
    arm_rows = []
    for arm in arms:
        quantiles = " / ".join(
            _fmt(arm.latency_quantiles[k], "latency") for k in ("p50", "p90", "p95", "p99")
        )
        cost = (
            f"{_fmt(arm.cost_p50, 'cost_usd')} / {_fmt(arm.cost_mean, 'cost_usd')} "
            f"n={arm.cost_samples:,}"
            if arm.cost_samples
            else "not reported"
        )
        arm_rows.append(
            (
                arm.provider,
                f"{arm.served_rows:,}",
                _rate(arm.fallback),
                quantiles,
                cost,
                *(_rate(arm.quality[metric]) for metric in quality),
            )
        )
    return table(
        (
            "arm",
            "served",
            "fallback rate",
            "latency p50 / p90 / p95 / p99 ms",
            "cost p50 / mean",
            *quality,
        ),
        arm_rows,
    )


# The eval runs a decision left out that its text names (the JSON has them all).
IGNORED_RUNS_SHOWN = 5


def decision_text(decision: Decision) -> str:
    span = f"{decision.window_start:%Y-%m-%d %H:%M} to {decision.window_end:%Y-%m-%d %H:%M} UTC"
    window = (
        f"quality from run {decision.eval_run_id}, telemetry {span}"
        if (decision.eval_run_id)
        else span
    )
    marker = " [SYNTHETIC]" if decision.is_synthetic else ""
    lines = [
        f"canary decision #{decision.decision_id}: {decision.decision.upper()}{marker} "
        f"({decision.canary} vs {decision.baseline}, {decision.environment})",
        f"window {window}; look {decision.look}; {decision.production_rows:,} production and "
        f"{decision.synthetic_rows:,} synthetic telemetry rows used",
        f"alpha {decision.alpha:g} over the rollout ({decision.method})"
        if decision.alpha is not None
        else decision.method,
        "",
    ]
    rows = [
        (
            rule.name,
            rule.kind,
            _fmt(rule.observed, rule.metric),
            rule.comparator,
            _fmt(rule.threshold, rule.metric),
            _fmt(rule.canary_value, _arm_metric(rule.metric)),
            _fmt(rule.baseline_value, _arm_metric(rule.metric)),
            rule.status.upper(),
            _evidence(rule),
        )
        for rule in decision.rules
    ]
    lines.append(
        table(
            (
                "rule",
                "kind",
                "observed",
                "",
                "threshold",
                decision.canary,
                decision.baseline,
                "status",
                "evidence",
            ),
            rows,
        )
    )
    lines += ["", _arms_table(decision)]
    if decision.is_synthetic:
        lines.append(
            f"\nsynthetic: {decision.synthetic_rows:,} telemetry rows and "
            f"{decision.synthetic_eval_samples:,} eval samples from `ai-gate simulate` "
            "(--include-synthetic); this decision cannot step or roll back the canary"
        )
    elif decision.excluded_synthetic_rows:
        lines.append(
            f"\nnote: {decision.excluded_synthetic_rows:,} synthetic telemetry rows in the "
            "window were left out (--include-synthetic counts them, for dry runs)"
        )
    if decision.ignored_eval_runs:
        shown = decision.ignored_eval_runs[:IGNORED_RUNS_SHOWN]
        named = ", ".join(
            f"{printable(str(run['run_id']))} ({run['run_type']}, {int(run['samples']):,} samples)"
            for run in shown
        )
        more = len(decision.ignored_eval_runs) - len(shown)
        lines.append(
            f"\nleft out of quality: {counted(len(decision.ignored_eval_runs), 'eval run')} that "
            f"{'is' if len(decision.ignored_eval_runs) == 1 else 'are'} not canary evidence "
            f"(run type canary: production samples scored): {named}"
            + (f" and {more} more" if more > 0 else "")
        )
    if decision.decision == "inconclusive":
        lines.append(
            "\ninconclusive: the evidence shows neither a problem nor that every rule is "
            "met; keep collecting and evaluate again (nothing to do)"
        )
    return "\n".join(lines) + "\n"
