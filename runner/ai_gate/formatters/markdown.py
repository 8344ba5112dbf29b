"""Markdown: the verdict of an eval run as a GitHub step summary (`--report-md`)."""

from __future__ import annotations

from ai_gate.evals.thresholds import METRICS
from ai_gate.evals.verdicts import RunVerdict
from ai_gate.formatters.verdict_cells import (
    BASELINE_HEADERS,
    ERROR_HEADERS,
    FLAKINESS_HEADERS,
    baseline_rows,
    bounds,
    cost_sources_text,
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


def verdict_report(
    verdict: RunVerdict,
    trend: list[tuple[str, dict[str, tuple[float | None, str]]]] | None = None,
) -> str:
    icon = {"passed": "✅", "failed": "❌", "skipped": "⚪", "inconclusive": "❔"}
    lines = [
        f"## Eval gate: {status_word(verdict)} {icon.get(verdict.status, '⚠️')}",
        "",
        f"Run `{verdict.run_id}` · environment `{verdict.environment}` · {verdict.run_type} · "
        f"{verdict.sample_count:,} samples{' · strict' if verdict.strict else ''} · "
        f"source `{verdict.source_file}`",
        *(["", source_text(verdict)] if source_text(verdict) else []),
        "",
        policy_text(verdict),
        "",
        "| gate | observed | bounds | | threshold | n | status |",
        "|---|---:|---|:-:|---:|---:|---|",
    ]
    for gate in verdict.gates:
        lines.append(
            f"| `{gate.gate}` | {number(gate.observed, gate.metric)} | {bounds(gate)} | "
            f"{gate.comparator} | {number(gate.threshold, gate.metric)} | "
            f"{evidence(gate, verdict.metric_counts.get(gate.metric, 0))} |"
            f" {icon[gate.status]} {gate.status} |"
        )
    off = sorted(gate for gate, value in verdict.thresholds.items() if value is None)
    if off:
        lines += ["", "Switched off: " + ", ".join(f"`{gate}`" for gate in off)]
    lines += ["", "| metric | value | n | 95% interval |", "|---|---:|---:|---|"]
    for metric in METRICS:
        low, high = verdict.intervals.get(metric, (None, None))
        interval = f"[{number(low, metric)}, {number(high, metric)}]" if low is not None else ""
        lines.append(
            f"| `{metric}` | {number(verdict.metrics.get(metric), metric)} | "
            f"{verdict.metric_counts.get(metric, 0)} | {interval} |"
        )
    if cost_sources_text(verdict):
        lines += ["", cost_sources_text(verdict).capitalize() + "."]  # type: ignore[union-attr]
    if verdict.baseline:
        lines += [
            "",
            f"Against baseline run `{verdict.baseline['baseline_run_id']}` "
            f"(alpha {verdict.baseline['alpha']}):",
            "",
            "| " + " | ".join(BASELINE_HEADERS) + " |",
            "|" + "---|" * len(BASELINE_HEADERS),
        ]
        lines += ["| " + " | ".join(row) + " |" for row in baseline_rows(verdict)]
    if verdict.error_count:
        lines += [
            "",
            errors_summary(verdict) + ":",
            "",
            *_table(ERROR_HEADERS, error_rows(verdict)),
        ]
    if verdict.flakiness:
        lines += [
            "",
            flakiness_summary(verdict) + ":",
            "",
            *_table(FLAKINESS_HEADERS, flakiness_rows(verdict)),
        ]
    if trend:
        lines += _trend(trend, icon)
    return "\n".join(lines) + "\n"


def _table(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    return [
        "| " + " | ".join(headers) + " |",
        "|" + "---|" * len(headers),
        *("| " + " | ".join(cell(c) for c in row) + " |" for row in rows),
    ]


def _trend(
    trend: list[tuple[str, dict[str, tuple[float | None, str]]]], icon: dict[str, str]
) -> list[str]:
    """The last runs of the environment, oldest first: each gate's value and outcome."""
    gates = sorted({gate for _, results in trend for gate in results})
    lines = [
        "",
        f"Trend: the last {len(trend)} runs of the environment (oldest first)",
        "",
        "| run | " + " | ".join(f"`{gate}`" for gate in gates) + " |",
        "|---|" + "---:|" * len(gates),
    ]
    for run_id, results in trend:
        cells = []
        for gate in gates:
            observed, status = results.get(gate, (None, ""))
            cells.append(f"{icon.get(status, '')} {number(observed, gate)}".strip())
        lines.append(f"| `{run_id}` | " + " | ".join(cells) + " |")
    return lines
