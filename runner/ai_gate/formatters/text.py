"""Everything ai-gate prints on the terminal, as text: one function per output, each
taking what the library returned. Handlers print; nothing here reads the database.

Text that came in from outside (audit reasons, actors) goes through `printable`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from ai_gate.evals.thresholds import METRICS
from ai_gate.formatters.verdict_cells import (
    BASELINE_HEADERS,
    ERROR_HEADERS,
    FLAKINESS_HEADERS,
    baseline_rows,
    bounds,
    counted,
    error_rows,
    errors_summary,
    evidence,
    flakiness_rows,
    flakiness_summary,
    number,
    policy_text,
    source_text,
    status_word,
)
from ai_gate.rollout.rules import judged_quality_metrics
from ai_gate.routing.change_log import HistoryEntry, RecordedChange, describe_differences
from ai_gate.routing.configuration import ProviderConfig
from ai_gate.routing.traffic import traffic_shares
from ai_gate.safe_text import printable

if TYPE_CHECKING:
    from ai_gate.daily_outcome import DailyOutcome
    from ai_gate.evals.verdicts import RunVerdict
    from ai_gate.rollout.actions import StepResult
    from ai_gate.rollout.canary import Decision
    from ai_gate.rollout.drill import DrillEvidence
    from ai_gate.rollout.rule_types import Rate, Rule
    from ai_gate.telemetry.latency import LatencyRow
    from ai_gate.telemetry.simulate import SimulationResult


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers]] + [["" if v is None else str(v) for v in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(value.ljust(widths[i]) for i, value in enumerate(row)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def yes_no(value: bool) -> str:
    return "yes" if value else "no"


TEXT_CASES = 20  # repeated cases the text report lists (flaky first); files list all
# How a run that was stored before is reported again.
REUSED = " (already recorded; verdict re-reported)"
REJUDGED = " (ingested before by a run that did not finish; judged now)"


def verdict_report(verdict: RunVerdict) -> str:
    header = (
        f"ai-gate eval run {verdict.run_id}: {status_word(verdict)}\n"
        f"environment {verdict.environment}, {verdict.run_type}, {verdict.sample_count:,} samples"
        f"{', strict' if verdict.strict else ''}, source {verdict.source_file}"
        f"{REUSED if verdict.reused else ''}{REJUDGED if verdict.rejudged else ''}"
    )
    confidence = (verdict.gate_policy or {}).get("policy") == "confidence"
    # the bounds column: under the confidence policy, or when a gate below its minimum
    # was judged on them
    show_bounds = confidence or any(bounds(gate) for gate in verdict.gates)
    gate_rows = [
        (
            gate.gate,
            number(gate.observed, gate.metric),
            *((bounds(gate),) if show_bounds else ()),
            gate.comparator,
            number(gate.threshold, gate.metric),
            evidence(gate, verdict.metric_counts.get(gate.metric, 0)),
            gate.status.upper(),
        )
        for gate in verdict.gates
    ]
    headers = (
        "gate",
        "observed",
        *(("bounds",) if show_bounds else ()),
        "",
        "threshold",
        "n",
        "status",
    )
    parts = [header]
    if source_text(verdict):
        parts.append(source_text(verdict))  # type: ignore[arg-type]
    parts += ["", table(headers, gate_rows)]
    if show_bounds:
        parts.append(policy_text(verdict))
    off = sorted(gate for gate, value in verdict.thresholds.items() if value is None)
    if off:
        parts.append(f"switched off: {', '.join(off)}")
    metric_rows = []
    for metric in METRICS:
        low, high = verdict.intervals.get(metric, (None, None))
        interval = f"[{number(low)}, {number(high)}]" if low is not None else ""
        metric_rows.append(
            (
                metric,
                number(verdict.metrics.get(metric), metric),
                verdict.metric_counts.get(metric, 0),
                interval,
            )
        )
    parts += ["", table(("metric", "value", "n", "95% Wilson interval"), metric_rows)]
    if verdict.baseline:
        parts += [
            "",
            f"against baseline run {verdict.baseline['baseline_run_id']} "
            f"(alpha {verdict.baseline['alpha']}):",
            table(BASELINE_HEADERS, baseline_rows(verdict)),
        ]
    if verdict.error_count:
        parts += ["", errors_summary(verdict), table(ERROR_HEADERS, error_rows(verdict))]
    if verdict.flakiness:
        rows = flakiness_rows(verdict)
        parts += ["", flakiness_summary(verdict), table(FLAKINESS_HEADERS, rows[:TEXT_CASES])]
        if len(rows) > TEXT_CASES:
            parts.append(
                f"... {len(rows) - TEXT_CASES} more repeated cases (every one in "
                "--report-json and --report-md)"
            )
    if verdict.status == "aborted":
        parts.append(f"\nrun aborted: {verdict.metadata.get('error', 'unknown error')}")
    return "\n".join(parts) + "\n"


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
    return f"{value:.4f}"


def _arm_metric(metric: str) -> str:
    """A rule's per-arm values are the underlying metric (a rate, a latency, a count)."""
    return (
        metric.replace("_drop_pp", "")
        .replace("p50_latency_ratio", "p50_latency_ms")
        .replace("canary_share", "rows")
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
        arm_rows.append(
            (
                arm.provider,
                f"{arm.served_rows:,}",
                _rate(arm.fallback),
                quantiles,
                *(_rate(arm.quality[metric]) for metric in quality),
            )
        )
    return table(
        ("arm", "served", "fallback rate", "latency p50 / p90 / p95 / p99 ms", *quality),
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


# --- build, routing flags ----------------------------------------------------------------


def build_summary(counts: dict[str, int]) -> str:
    summary = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
    return f"ai-gate build: ok ({summary})\n"


def configs(configs: Sequence[ProviderConfig]) -> str:
    shares = traffic_shares(configs)
    rows = [
        (
            config.environment,
            config.provider,
            yes_no(config.enabled),
            yes_no(config.is_default),
            config.weight,
            f"{shares[(config.environment, config.provider)]:.1%}",
            config.timeout_ms,
            config.max_retries,
            config.model,
            printable(
                f"#{config.last_change_id} {config.last_changed_by}: {config.last_change_reason}"
            )
            if config.last_change_id
            else "seed default",
        )
        for config in configs
    ]
    headers = (
        "environment",
        "provider",
        "enabled",
        "default",
        "weight",
        "traffic",
        "timeout_ms",
        "retries",
        "model",
        "source",
    )
    return table(headers, rows) + "\n"


def recorded_change(environment: str, provider: str, recorded: RecordedChange) -> str:
    traffic = f"{recorded.traffic.describe()}\n" if recorded.traffic else ""
    if not recorded.recorded:
        return (
            f"ai-gate flags set: {environment}/{provider} already as asked; nothing recorded\n"
            + traffic
        )
    lines = []
    for before, after in recorded.rows:
        differences = describe_differences(before.overridable_values(), after.overridable_values())
        lines.append(
            f"recorded {after.environment}/{after.provider}: {', '.join(differences)} "
            f"(change set {recorded.change_set_id})"
        )
    return "\n".join(lines) + "\n" + traffic


def history(entries: Sequence[HistoryEntry]) -> str:
    if not entries:
        return "no flag changes recorded\n"
    rows = [
        (
            entry.change_id,
            entry.changed_at.isoformat(timespec="seconds"),
            entry.environment,
            entry.provider,
            ", ".join(entry.differences()) or "(no value changed)",
            printable(f"{entry.changed_by} via {entry.changed_via}"),
            printable(entry.reason),
        )
        for entry in entries
    ]
    headers = ("id", "changed_at", "environment", "provider", "change", "by", "reason")
    return table(headers, rows) + "\n"


# --- canary, drills, simulation ------------------------------------------------------------


def rollback_applied(decision: Decision, recorded: RecordedChange | None) -> str:
    if recorded is None:
        return f"--apply: decision is {decision.decision}; nothing to apply\n"
    traffic = f"{recorded.traffic.describe()}\n" if recorded.traffic else ""
    return f"--apply: rollback recorded (change set {recorded.change_set_id})\n{traffic}"


def step(result: StepResult) -> str:
    return (
        f"canary step: {result.arms.canary} {result.from_percent:.1f}% -> {result.to_percent}% "
        f"of {result.arms.environment} traffic (after go decision #{result.decision_id}; "
        f"change set {result.recorded.change_set_id})\n"
        + (f"{result.recorded.traffic.describe()}\n" if result.recorded.traffic else "")
    )


def simulation(result: SimulationResult) -> str:
    return (
        f"simulated {result.scenario}: {result.telemetry_rows:,} synthetic telemetry rows "
        f"({result.canary_rows:,} to the canary), eval run {result.eval_run_id} with "
        f"{result.eval_samples:,} synthetic samples\n"
    )


def drill(evidence: DrillEvidence) -> str:
    lines = [
        f"rollback drill {evidence.drill_id} in {evidence.environment}: "
        f"{'SUCCEEDED' if evidence.succeeded else 'FAILED'}",
        table(
            ("at", "step", "ok", "detail"),
            [(s["at"], s["step"], yes_no(bool(s["ok"])), s["detail"]) for s in evidence.steps],
        ),
    ]
    for label, state in (
        ("before", evidence.before_state),
        ("during", evidence.during_state),
        ("after", evidence.after_state),
    ):
        lines.append(f"{label}: {json.dumps(state, sort_keys=True)}")
    if evidence.error:
        lines.append(f"error: {evidence.error}")
    return "\n".join(lines) + "\n"


# --- latency, daily --------------------------------------------------------------------------


def latency(start: datetime, end: datetime, exact: bool, rows: Sequence[LatencyRow]) -> str:
    def ms(value: float | None) -> str:
        return "n/a" if value is None else f"{value:,.1f}"

    method = "exact percentile_cont" if exact else "histogram rollups + raw tail"
    span = f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC"
    if not any(row.requests for row in rows):
        return f"latency {span}: no generations with a latency in this window\n"
    body = table(
        ("provider", "requests", "p50_ms", "p95_ms", "p99_ms"),
        [
            (
                row.selected_provider or "(all)",
                f"{row.requests:,}",
                ms(row.p50_ms),
                ms(row.p95_ms),
                ms(row.p99_ms),
            )
            for row in rows
        ],
    )
    return f"latency {span} ({method})\n{body}\n"


def daily(outcome: DailyOutcome) -> str:
    parts = [verdict_report(verdict) + "\n" for verdict in outcome.runs]
    if outcome.decision is not None:
        parts.append(decision_text(outcome.decision))
    elif outcome.canary_skipped:
        parts.append(f"canary evaluation skipped: {outcome.canary_skipped}\n")
    parts.append("\n")
    parts.append(
        table(
            ("file", "outcome", "run"),
            [(f.file, f.outcome.upper(), f.run_id or f.message or "") for f in outcome.files],
        )
        + "\n"
    )
    if outcome.decision is not None:
        parts.append(
            f"canary: {outcome.decision.decision.upper()} (#{outcome.decision.decision_id})\n"
        )
    parts.append(f"ai-gate daily: exit {outcome.exit_code}\n")
    return "".join(parts)
