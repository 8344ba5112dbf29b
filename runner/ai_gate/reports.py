"""Renderings of one stored verdict: terminal text, JSON, Markdown, JUnit XML.

All four take the same EvalReport (read back from the database), so they cannot
disagree with each other or with `ai_eval_gate_results`.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from xml.etree import ElementTree

from .evals import METRICS, EvalReport, GateResult
from .render import table


def _number(value: float | None, metric: str = "") -> str:
    if value is None:
        return "n/a"
    if metric.startswith("p95") or abs(value) >= 10:
        return f"{value:,.1f}"
    return f"{value:.4f}"


def _verdict(report: EvalReport) -> str:
    return report.status.upper()


def _bounds(gate: GateResult) -> str:
    """The confidence policy's bounds, `[low, high]`; empty under the point policy."""
    if gate.lower_bound is None and gate.upper_bound is None:
        return ""
    return f"[{_number(gate.lower_bound, gate.metric)}, {_number(gate.upper_bound, gate.metric)}]"


def _policy(report: EvalReport) -> str:
    policy = report.gate_policy or {}
    if policy.get("policy") == "confidence":
        return f"gates judged on one-sided bounds at confidence {policy['confidence']}"
    return "gates judged on the point estimate"


def _gate_explanation(gate: GateResult, strict: bool) -> str:
    if gate.status == "skipped":
        return "no data" + (" (fails under --strict)" if strict else "")
    observed = _number(gate.observed, gate.metric)
    bounds = f" (bounds {_bounds(gate)})" if _bounds(gate) else ""
    return (
        f"observed {observed}{bounds}, needs {gate.comparator} "
        f"{_number(gate.threshold, gate.metric)}"
    )


def text_report(report: EvalReport) -> str:
    header = (
        f"ai-gate eval run {report.run_id}: {_verdict(report)}\n"
        f"environment {report.environment}, {report.run_type}, {report.sample_count:,} samples"
        f"{', strict' if report.strict else ''}, source {report.source_file}"
        f"{' (already recorded; verdict re-reported)' if report.reused else ''}"
    )
    confidence = bool(report.gate_policy)
    gate_rows = [
        (
            gate.gate,
            _number(gate.observed, gate.metric),
            *((_bounds(gate),) if confidence else ()),
            gate.comparator,
            _number(gate.threshold, gate.metric),
            report.metric_counts.get(gate.metric, 0),
            gate.status.upper(),
        )
        for gate in report.gates
    ]
    headers = (
        "gate",
        "observed",
        *(("bounds",) if confidence else ()),
        "",
        "threshold",
        "n",
        "status",
    )
    parts = [header, "", table(headers, gate_rows)]
    if confidence:
        parts.append(_policy(report))
    off = sorted(gate for gate, value in report.thresholds.items() if value is None)
    if off:
        parts.append(f"switched off: {', '.join(off)}")
    metric_rows = []
    for metric in METRICS:
        low, high = report.intervals.get(metric, (None, None))
        interval = f"[{_number(low)}, {_number(high)}]" if low is not None else ""
        metric_rows.append(
            (
                metric,
                _number(report.metrics.get(metric), metric),
                report.metric_counts.get(metric, 0),
                interval,
            )
        )
    parts += ["", table(("metric", "value", "n", "95% Wilson interval"), metric_rows)]
    if report.baseline:
        parts += [
            "",
            f"against baseline run {report.baseline['baseline_run_id']} "
            f"(alpha {report.baseline['alpha']}):",
            table(BASELINE_HEADERS, _baseline_rows(report)),
        ]
    if report.status == "aborted":
        parts.append(f"\nrun aborted: {report.metadata.get('error', 'unknown error')}")
    return "\n".join(parts) + "\n"


def _baseline_rows(report: EvalReport) -> list[tuple[str, ...]]:
    comparison = report.baseline or {}
    rows = []
    for metric in comparison.get("metrics", []):  # type: ignore[union-attr]
        p_value = metric["adjusted_p_value"]
        rows.append(
            (
                metric["metric"],
                _number(metric["baseline_value"]),
                _number(metric["candidate_value"]),
                "n/a" if metric["delta_pp"] is None else f"{metric['delta_pp']:+.2f} pp",
                f"{metric['tolerance_pp']:g} pp",
                metric["method"] + (f" ({metric['pairs']} pairs)" if metric["pairs"] else ""),
                "n/a" if p_value is None else f"{p_value:.3g}",
                "REGRESSED" if metric["regressed"] else "ok",
                ", ".join(metric["flipped_case_ids"]),
            )
        )
    return rows


BASELINE_HEADERS = (
    "metric",
    "baseline",
    "candidate",
    "regression",
    "tolerance",
    "method",
    "p (Holm)",
    "verdict",
    "flipped pass -> fail",
)


def json_report(report: EvalReport) -> str:
    return json.dumps(report.as_json(), indent=2, sort_keys=False) + "\n"


def markdown_report(report: EvalReport) -> str:
    icon = {"passed": "✅", "failed": "❌", "skipped": "⚪", "inconclusive": "❔"}
    lines = [
        f"## Eval gate: {_verdict(report)} {icon.get(report.status, '⚠️')}",
        "",
        f"Run `{report.run_id}` · environment `{report.environment}` · {report.run_type} · "
        f"{report.sample_count:,} samples{' · strict' if report.strict else ''} · "
        f"source `{report.source_file}`",
        "",
        _policy(report),
        "",
        "| gate | observed | bounds | | threshold | n | status |",
        "|---|---:|---|:-:|---:|---:|---|",
    ]
    for gate in report.gates:
        lines.append(
            f"| `{gate.gate}` | {_number(gate.observed, gate.metric)} | {_bounds(gate)} | "
            f"{gate.comparator} | {_number(gate.threshold, gate.metric)} | "
            f"{report.metric_counts.get(gate.metric, 0)} | {icon[gate.status]} {gate.status} |"
        )
    off = sorted(gate for gate, value in report.thresholds.items() if value is None)
    if off:
        lines += ["", "Switched off: " + ", ".join(f"`{gate}`" for gate in off)]
    lines += ["", "| metric | value | n | 95% Wilson interval |", "|---|---:|---:|---|"]
    for metric in METRICS:
        low, high = report.intervals.get(metric, (None, None))
        interval = f"[{_number(low)}, {_number(high)}]" if low is not None else ""
        lines.append(
            f"| `{metric}` | {_number(report.metrics.get(metric), metric)} | "
            f"{report.metric_counts.get(metric, 0)} | {interval} |"
        )
    if report.baseline:
        lines += [
            "",
            f"Against baseline run `{report.baseline['baseline_run_id']}` "
            f"(alpha {report.baseline['alpha']}):",
            "",
            "| " + " | ".join(BASELINE_HEADERS) + " |",
            "|" + "---|" * len(BASELINE_HEADERS),
        ]
        lines += ["| " + " | ".join(row) + " |" for row in _baseline_rows(report)]
    return "\n".join(lines) + "\n"


def junit_report(report: EvalReport) -> str:
    failures = sum(
        1
        for gate in report.gates
        if gate.status == "failed" or (gate.status == "skipped" and report.strict)
    )
    skipped = sum(
        1
        for gate in report.gates
        if (gate.status == "skipped" and not report.strict) or gate.status == "inconclusive"
    )
    suite = ElementTree.Element(
        "testsuite",
        name=f"ai-gate eval gates ({report.environment})",
        tests=str(len(report.gates)),
        failures=str(failures),
        errors="0",
        skipped=str(skipped),
    )
    properties = ElementTree.SubElement(suite, "properties")
    for name, value in (
        ("run_id", report.run_id),
        ("status", report.status),
        ("sample_count", str(report.sample_count)),
    ):
        ElementTree.SubElement(properties, "property", name=name, value=value)
    for gate in report.gates:
        case = ElementTree.SubElement(suite, "testcase", classname="ai_gate.gates", name=gate.gate)
        explanation = _gate_explanation(gate, report.strict)
        if gate.status == "failed" or (gate.status == "skipped" and report.strict):
            ElementTree.SubElement(case, "failure", message=explanation, type=gate.status)
        elif gate.status == "skipped":
            ElementTree.SubElement(case, "skipped", message=explanation)
        elif gate.status == "inconclusive":  # JUnit has no such outcome: not a pass
            ElementTree.SubElement(case, "skipped", message=f"inconclusive: {explanation}")
    for row in _baseline_rows(report):
        case = ElementTree.SubElement(
            suite, "testcase", classname="ai_gate.baseline", name=f"{row[0]} vs baseline"
        )
        if row[7] == "REGRESSED":
            ElementTree.SubElement(
                case,
                "failure",
                message=f"regressed {row[3]} (tolerance {row[4]}, p {row[6]}); flipped: {row[8]}",
                type="regressed",
            )
    baseline_failures = sum(1 for row in _baseline_rows(report) if row[7] == "REGRESSED")
    suite.set("tests", str(len(report.gates) + len(_baseline_rows(report))))
    suite.set("failures", str(failures + baseline_failures))
    ElementTree.indent(suite)
    return ElementTree.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def write_atomically(path: Path, content: str) -> None:
    """Write to a temporary file beside `path`, then rename: never a half-written report."""
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
