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
from ai_gate.formatters.decision_text import decision_text
from ai_gate.formatters.text_table import table
from ai_gate.formatters.verdict_cells import (
    BASELINE_HEADERS,
    ERROR_HEADERS,
    FLAKINESS_HEADERS,
    baseline_rows,
    bounds,
    cost_sources_text,
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
    from ai_gate.telemetry.latency import LatencyRow
    from ai_gate.telemetry.simulate import SimulationResult
    from ai_gate.telemetry.usage import UsageRow


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
        interval = f"[{number(low, metric)}, {number(high, metric)}]" if low is not None else ""
        metric_rows.append(
            (
                metric,
                number(verdict.metrics.get(metric), metric),
                verdict.metric_counts.get(metric, 0),
                interval,
            )
        )
    parts += ["", table(("metric", "value", "n", "95% interval"), metric_rows)]
    if cost_sources_text(verdict):
        parts.append(cost_sources_text(verdict))  # type: ignore[arg-type]
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


def usage(start: datetime, end: datetime, rows: Sequence[UsageRow]) -> str:
    """Tokens and cost per provider; a cost never recorded nor priced is counted as
    unknown and left out of the sums (not taken as zero)."""

    def tokens(value: float | None) -> str:
        return "n/a" if value is None else f"{value:,.0f}"

    def dollars(value: float | None, places: int) -> str:
        return "n/a" if value is None else f"${value:,.{places}f}"

    span = f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC"
    if not rows:
        return f"cost {span}: no generations in this window\n"
    body = table(
        (
            "provider",
            "generations",
            "mean in / out tokens",
            "p95 tokens",
            "cost known (priced)",
            "unknown",
            "total cost",
            "mean cost",
            "fallbacks",
            "fallback cost",
        ),
        [
            (
                row.selected_provider or "(none)",
                f"{row.generations:,}",
                f"{tokens(row.mean_input_tokens)} / {tokens(row.mean_output_tokens)}",
                tokens(row.p95_tokens),
                f"{row.cost_generations:,} ({row.priced_generations:,})",
                f"{row.unknown_cost_generations:,}",
                dollars(row.cost_usd, 2),
                dollars(row.mean_cost_usd, 6),
                f"{row.fallback_generations:,}",
                dollars(row.fallback_cost_usd, 2),
            )
            for row in rows
        ],
    )
    unknown = sum(row.unknown_cost_generations for row in rows)
    note = (
        f"\n{counted(unknown, 'generation')} with no recorded cost and no price for its model "
        "(seed ai_provider_prices): left out of the costs, not counted as free"
        if unknown
        else ""
    )
    method = "usage rollups + raw tail; priced = tokens at the seed's prices"
    return f"cost {span} ({method})\n{body}{note}\n"


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
