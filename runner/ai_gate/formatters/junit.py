"""JUnit XML: the verdict of an eval run for CI test reports (`--junit`): one test
case per gate and per baseline comparison; one per errored attempt (an error); one
per case tried more than once (a flaky one says so in its system-out)."""

from __future__ import annotations

from xml.etree import ElementTree

from ai_gate.evals import baseline
from ai_gate.evals.verdicts import RunVerdict, gate_fails
from ai_gate.formatters.verdict_cells import BASELINE_HEADERS, baseline_cells, gate_explanation


def verdict_report(verdict: RunVerdict) -> str:
    failures = sum(1 for gate in verdict.gates if gate_fails(gate.status, verdict.strict))
    skipped = sum(
        1
        for gate in verdict.gates
        if not gate_fails(gate.status, verdict.strict)
        and gate.status in ("skipped", "inconclusive")
    )
    suite = ElementTree.Element(
        "testsuite",
        name=f"ai-gate eval gates ({verdict.environment})",
        tests=str(len(verdict.gates)),
        failures=str(failures),
        errors="0",
        skipped=str(skipped),
    )
    properties = ElementTree.SubElement(suite, "properties")
    for name, value in (
        ("run_id", verdict.run_id),
        ("status", verdict.status),
        ("sample_count", str(verdict.sample_count)),
    ):
        ElementTree.SubElement(properties, "property", name=name, value=value)
    for gate in verdict.gates:
        case = ElementTree.SubElement(suite, "testcase", classname="ai_gate.gates", name=gate.gate)
        explanation = gate_explanation(
            gate, verdict.strict, verdict.metric_counts.get(gate.metric, 0)
        )
        if gate_fails(gate.status, verdict.strict):
            ElementTree.SubElement(case, "failure", message=explanation, type=gate.status)
        elif gate.status == "skipped":
            ElementTree.SubElement(case, "skipped", message=explanation)
        elif gate.status == "inconclusive":  # JUnit has no such outcome: not a pass
            ElementTree.SubElement(case, "skipped", message=f"inconclusive: {explanation}")
    comparisons = baseline.stored_comparisons(verdict.baseline)
    for result in comparisons:
        case = ElementTree.SubElement(
            suite, "testcase", classname="ai_gate.baseline", name=f"{result.metric} vs baseline"
        )
        if result.regressed:
            cells = dict(zip(BASELINE_HEADERS, baseline_cells(result), strict=True))
            ElementTree.SubElement(
                case,
                "failure",
                message=f"regressed {cells['regression']} (tolerance {cells['tolerance']}, "
                f"p {cells['p (Holm)']}); flipped: {cells['flipped pass -> fail']}",
                type="regressed",
            )
    for error in verdict.errors:
        case = ElementTree.SubElement(
            suite,
            "testcase",
            classname="ai_gate.errors",
            name=f"{error['sample_id']} ({error.get('case_id') or '-'})",
        )
        ElementTree.SubElement(case, "error", message=str(error.get("error") or ""), type="error")
    for flaky in sorted(
        verdict.flakiness, key=lambda c: (not c.flaky, c.case_id, c.provider or "")
    ):
        case = ElementTree.SubElement(
            suite,
            "testcase",
            classname="ai_gate.flakiness",
            name=f"{flaky.case_id} ({flaky.provider or '-'})",
        )
        if flaky.flaky:
            ElementTree.SubElement(case, "system-out").text = (
                f"flaky: {flaky.passes} of {flaky.attempts} attempts passed "
                f"(pass rate {flaky.pass_rate:.4f}, pass^k {flaky.pass_k:.4f}, "
                f"95% lower bound {flaky.pass_k_lower:.4f})"
            )
    ElementTree.SubElement(
        properties, "property", name="error_count", value=str(verdict.error_count)
    )
    for source, count in verdict.cost_sources.items():  # recorded, priced, unknown
        ElementTree.SubElement(properties, "property", name=f"costs_{source}", value=str(count))
    baseline_failures = sum(1 for result in comparisons if result.regressed)
    tests = len(verdict.gates) + len(comparisons) + len(verdict.errors) + len(verdict.flakiness)
    suite.set("tests", str(tests))
    suite.set("failures", str(failures + baseline_failures))
    suite.set("errors", str(len(verdict.errors)))
    ElementTree.indent(suite)
    return ElementTree.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"
