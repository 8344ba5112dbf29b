"""The HTML report: one self-contained file (inline CSS, charts as inline SVG drawn by
matplotlib; no script, font or image is fetched when it is opened), readable offline
and attachable to a CI run or an incident ticket. docs/report.md says why matplotlib.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from ai_gate.formatters.html_parts import change_link_cells, link, plt
from ai_gate.formatters.html_parts import escape as _e
from ai_gate.formatters.html_parts import grouped as _grouped
from ai_gate.formatters.html_parts import number as _number
from ai_gate.formatters.html_parts import status_span as _status
from ai_gate.formatters.html_parts import svg as _svg
from ai_gate.formatters.html_parts import table as _table
from ai_gate.formatters.html_parts import time_axis as _time_axis
from ai_gate.formatters.html_telemetry import cost_section, latency_section
from ai_gate.html_report import NAMED_FAILED_RUNS, NAMED_RUNS

if TYPE_CHECKING:
    from ai_gate.html_report import HtmlReportData

DECISION_COLOURS = {
    "go": "#2e7d32",
    "hold": "#ef6c00",
    "rollback": "#c62828",
    "inconclusive": "#757575",
}
STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
  max-width: 1100px; color: #1b1b1b; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; } h2 { margin-top: 2.2rem; border-bottom:
  1px solid #ddd; padding-bottom: .2rem; } h3 { font-size: 1rem; margin: 1rem 0 .3rem; }
.meta { color: #555; } .empty { color: #666; font-style: italic; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: 13px; }
th, td { border-bottom: 1px solid #e3e3e3; padding: .25rem .6rem; text-align: left;
  vertical-align: top; } th { background: #f6f6f6; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; }
.table-scroll { overflow-x: auto; max-width: 100%; }
.chart svg { max-width: 100%; height: auto; }
.passed, .go, .ok { color: #2e7d32; font-weight: 600; }
.failed, .rollback, .breached { color: #c62828; font-weight: 600; }
.hold, .inconclusive, .undecided { color: #ef6c00; font-weight: 600; }
"""


def _anchors(data: HtmlReportData) -> set[str]:
    """The ids of the page's rows that others link to (runs, decisions, drills): a
    link is drawn only to a row the page lists, so that every link resolves."""
    return (
        {f"run-{row.run_id}" for row in data.gates}
        | {f"decision-{d['decision_id']}" for d in data.decisions}
        | {f"drill-{d['drill_id']}" for d in data.drills}
    )


def _gate_chart(gate: str, days: list[dict[str, Any]], data: HtmlReportData) -> str:
    """One gate over the window, a point per UTC day (however many runs the day had):
    the median observed value, the day's lowest to highest (a bar), the days on which
    it failed (a cross), and the threshold of the newest run (dashed)."""
    figure, axes = plt.subplots(figsize=(3.4, 2.1))
    judged = [day for day in days if day["observed_median"] is not None]
    for day in judged:
        if day["observed_low"] != day["observed_high"]:
            axes.vlines(
                day["day"], day["observed_low"], day["observed_high"], color="#90a4ae", lw=2
            )
    axes.plot(
        [day["day"] for day in judged],
        [day["observed_median"] for day in judged],
        color="#37474f",
        lw=1,
        marker="o",
        ms=3,
        label="observed (daily median)",
    )
    failed = [day for day in judged if day["failed"]]
    if failed:
        axes.scatter(
            [day["day"] for day in failed],
            [day["observed_median"] for day in failed],
            color="#c62828",
            marker="x",
            s=40,
            zorder=3,
            label="failed that day",
        )
    threshold = days[-1]["threshold"] if days else None
    if threshold is not None:
        axes.axhline(float(threshold), color="#c62828", ls="--", lw=1, label="threshold")
    if not judged:
        axes.text(0.5, 0.5, "no data in any run", transform=axes.transAxes, ha="center")
    axes.set_title(gate, fontsize=9)
    _time_axis(axes, data.since, data.until)
    axes.legend(fontsize=6, frameon=False, loc="best")
    return _svg(figure)


def _gates_section(data: HtmlReportData) -> str:
    if not data.gates:
        return (
            f'<p class="empty">No evaluation runs in {data.environment} in the last '
            f"{(data.until - data.since).days} days (synthetic runs are left out).</p>"
        )
    by_gate = _grouped(data.gate_days, "gate")
    gates = sorted(by_gate)
    charts = "".join(
        f'<div class="chart" data-chart="gate:{_e(gate)}">'
        f"{_gate_chart(gate, by_gate[gate], data)}</div>"
        for gate in gates
    )
    by_run = _grouped(data.gates, "run_id")
    latest_run = data.gates[-1].run_id
    latest = by_run[latest_run]
    table = _table(
        ["gate", "observed", "bounds", "", "threshold", "status"],
        [
            [
                _e(row.gate),
                _number(row.observed),
                f"[{_number(row.low)}, {_number(row.high)}]" if row.low is not None else "",
                _e(row.comparator),
                _number(row.threshold),
                _status(row.status),
            ]
            for row in latest
        ],
        raw=True,
    )
    # every run, newest first: its status and each gate's
    runs_table = _table(
        ["run", "started", "status", *gates],
        [
            [
                f'<span id="run-{_e(run_id)}">{_e(run_id)}</span>',
                _e(f"{rows[0].started_at:%Y-%m-%d %H:%M}"),
                _status(rows[0].run_status),
                *(
                    next((_status(row.status) for row in rows if row.gate == gate), "—")
                    for gate in gates
                ),
            ]
            for run_id, rows in reversed(by_run.items())
        ],
        raw=True,
    )
    listed = len(by_run)
    beyond = data.run_count - listed
    return (
        f"<p>{data.run_count:,} runs ({data.failed_run_count:,} failed). Each chart: per "
        "UTC day, the median observed value over the day's runs, the lowest to the highest "
        "(a bar), the threshold (dashed) and the days on which that gate failed (×).</p>"
        f'<div class="charts">{charts}</div>'
        f"<h3>Latest run: {_e(latest_run)} ({_status(latest[0].run_status)})</h3>"
        f'<div data-table="latest-run">{table}</div>'
        f"<h3>Runs</h3><p>The newest {NAMED_RUNS} runs and the newest {NAMED_FAILED_RUNS} "
        f"failed ones beyond them: {listed:,} of {data.run_count:,}"
        + (
            f"; {beyond:,} more in the window (each: <code>ai-gate check --run-id ID</code>)"
            if beyond > 0
            else ""
        )
        + f'.</p><div data-table="runs">{runs_table}</div>'
    )


FLAKY_CASES_LISTED = 12  # per run; the run's JSON and Markdown reports list every one


def _some(names: list[str]) -> str:
    listed = ", ".join(names[:FLAKY_CASES_LISTED])
    more = len(names) - FLAKY_CASES_LISTED
    return f"{listed} and {more} more" if more > 0 else listed


def _flakiness_section(data: HtmlReportData) -> str:
    if not data.flakiness:
        return (
            f'<p class="empty">No run in {_e(data.environment)} tried a case more than once '
            "in the window (repeats: promptfoo --repeat, inspect-ai epochs, records with "
            "the same case_id and provider).</p>"
        )
    figure, axes = plt.subplots(figsize=(6.8, 2.1))
    axes.plot(
        [row["day"] for row in data.flake_days],
        [row["flake_rate"] for row in data.flake_days],
        color="#37474f",
        lw=1,
        marker="o",
        ms=3,
    )
    axes.set_ylim(0, max(0.05, max(float(row["flake_rate"]) for row in data.flake_days)) * 1.1)
    axes.set_title("flake rate per UTC day: flaky cases / repeated cases", fontsize=9)
    _time_axis(axes, data.since, data.until)
    table = _table(
        ["run", "started", "repeated cases", "flaky", "flake rate", "flaky cases"],
        [
            [
                _e(row["run_id"]),
                _e(f"{row['started_at']:%Y-%m-%d %H:%M}"),
                str(row["repeated_cases"]),
                str(row["flaky_cases"]),
                _number(row["flake_rate"]),
                _e(_some(row["flaky"])),
            ]
            for row in reversed(data.flakiness)
        ],
        raw=True,
    )
    return (
        "<p>Cases tried more than once by a provider; a case is flaky when some attempts "
        "passed and some failed (docs/importers.md).</p>"
        f'<div class="chart" data-chart="flake-rate">{_svg(figure)}</div>'
        f'<div data-table="flakiness">{table}</div>'
    )


def _canary_section(data: HtmlReportData) -> str:
    parts = []
    if data.traffic_share:
        figure, axes = plt.subplots(figsize=(10, 2.3))
        times = [point[0] for point in data.traffic_share]
        shares = [point[1] * 100 for point in data.traffic_share]
        axes.step(
            times, shares, where="post", color="#37474f", lw=1.5, label=f"{data.canary} share"
        )
        for decided_at, decision in data.decision_marks:
            axes.scatter(
                decided_at,
                0,
                color=DECISION_COLOURS.get(str(decision), "#000"),
                marker="v",
                s=45,
                zorder=3,
                clip_on=False,
            )
        for name, colour in DECISION_COLOURS.items():
            axes.scatter([], [], color=colour, marker="v", label=name)
        axes.set_ylabel("% of traffic")
        axes.set_ylim(bottom=0, top=max(max(shares) * 1.15, 1))
        _time_axis(axes, data.since, data.until)
        axes.legend(fontsize=6, frameon=False, ncol=5, loc="upper left")
        marked = (
            f" (the newest {len(data.decision_marks):,} of {data.decision_count:,})"
            if data.decision_count > len(data.decision_marks)
            else ""
        )
        parts.append(
            f"<p>The {_e(data.canary)} canary's share of {_e(data.environment)} traffic over "
            f"time (from the flag change log) and each canary decision (▼){marked}.</p>"
            f'<div class="chart" data-chart="canary">{_svg(figure)}</div>'
        )
    if not data.decisions:
        parts.append(
            f'<p class="empty">No canary decisions in {_e(data.environment)} in the window.</p>'
        )
    else:
        if data.decision_count > len(data.decisions):
            parts.append(
                f"<p>The newest {len(data.decisions):,} of {data.decision_count:,} decisions "
                "(every one: <code>select * from ai_canary_decisions</code>).</p>"
            )
        parts.append(
            _table(
                [
                    "#",
                    "decided at",
                    "decision",
                    "deciding rule",
                    "sample ratio",
                    "synthetic",
                    "canary eval runs read",
                ],
                [
                    [
                        f'<span id="decision-{_e(d["decision_id"])}">{_e(d["decision_id"])}</span>',
                        _e(f"{d['decided_at']:%Y-%m-%d %H:%M}"),
                        _status(d["decision"]),
                        _e(d["deciding"] or "—"),
                        (_status(d["srm"]) if d["srm"] else "—")
                        + (f" ({_number(d['srm_observed'])})" if d["srm_observed"] else ""),
                        "yes" if d["is_synthetic"] else "no",
                        ", ".join(
                            link(f"run-{run['run_id']}", str(run["run_id"]), _anchors(data))
                            for run in d["evidence_eval_runs"]  # type: ignore[attr-defined]
                        )
                        or "—",
                    ]
                    for d in data.decisions
                ],
                raw=True,
            )
        )
    return "".join(parts)


def _newest(shown: int, total: int, what: str, command: str) -> str:
    if total <= shown:
        return ""
    return f"<p>The newest {shown:,} of {total:,} {what} ({command}).</p>"


def _audit_section(data: HtmlReportData) -> str:
    if data.changes:
        changes = _newest(
            len(data.changes), data.change_count, "changes", "<code>ai-gate flags history</code>"
        ) + _table(
            ["when", "who", "provider", "change", "reason", "decision in force", "drill before"],
            [
                [
                    _e(f"{entry.changed_at:%Y-%m-%d %H:%M}"),
                    _e(f"{entry.changed_by} via {entry.changed_via}"),
                    _e(entry.provider),
                    _e(", ".join(entry.differences()) or "(no value changed)"),
                    _e(entry.reason),
                    *change_link_cells(data.change_links.get(entry.change_id), _anchors(data)),
                ]
                for entry in data.changes
            ],
            raw=True,
        )
    else:
        changes = f'<p class="empty">No flag changes in {_e(data.environment)} in the window.</p>'
    if data.drills:
        drills = _newest(
            len(data.drills),
            data.drill_count,
            "drills",
            "<code>select * from ai_rollback_drills</code>",
        ) + _table(
            ["started", "by", "outcome", "error"],
            [
                [
                    f'<span id="drill-{_e(d["drill_id"])}">'
                    f"{_e(format(d['started_at'], '%Y-%m-%d %H:%M'))}</span>",
                    _e(d["run_by"]),
                    _status("passed" if d["succeeded"] else "failed"),
                    _e(d["error"] or ""),
                ]
                for d in data.drills
            ],
            raw=True,
        )
    else:
        drills = f'<p class="empty">No rollback drills in {_e(data.environment)} in the window.</p>'
    return f"<h3>Flag changes</h3>{changes}<h3>Rollback drills</h3>{drills}"


def render(data: HtmlReportData) -> str:
    def when(value: datetime) -> str:
        return f"{value:%Y-%m-%d %H:%M} UTC"

    sections = [
        ("gates", "Gate history", _gates_section(data)),
        ("flakiness", "Flakiness", _flakiness_section(data)),
        ("latency", "Latency", latency_section(data)),
        ("cost", "Cost", cost_section(data)),
        ("canary", "Canary", _canary_section(data)),
        ("audit", "Audit", _audit_section(data)),
    ]
    body = "".join(
        f'<section id="{key}"><h2>{title}</h2>{content}</section>'
        for key, title, content in sections
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ai-gate report: {_e(data.environment)}</title><style>{STYLE}</style></head>
<body><header id="header"><h1>ai-gate report: {_e(data.environment)}</h1>
<p class="meta">{_e(when(data.since))} to {_e(when(data.until))} · database {_e(data.database)}
 · generated {_e(when(data.generated_at))} · ai-gate {_e(data.version)}</p></header>
{body}</body></html>
"""
