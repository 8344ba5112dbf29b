"""The cells every rendering of a run's verdict shares (text, Markdown, JUnit): numbers
as a report shows them, a gate's bounds and evidence, the source line, the rows and
headers of the flakiness, errors and baseline tables. Each renderer lays them out its
own way; none borrows another's internals."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ai_gate.evals import baseline
from ai_gate.evals.thresholds import BELOW_MINIMUM_CONFIDENCE
from ai_gate.safe_text import printable

if TYPE_CHECKING:
    from ai_gate.evals.baseline import MetricComparison
    from ai_gate.evals.verdicts import GateResult, RunVerdict


def number(value: float | None, metric: str = "") -> str:
    if value is None:
        return "n/a"
    if metric.endswith("_usd"):  # dollars per generation: cents and below matter
        return f"{value:,.6f}"
    if metric.startswith("p95") or metric.endswith("_tokens") or abs(value) >= 10:
        return f"{value:,.1f}"
    return f"{value:.4f}"


def cost_sources_text(verdict: RunVerdict) -> str | None:
    """How the run's costs are known (docs/cost.md); None for a run judged before
    costs were counted, or one that reports none."""
    sources = verdict.cost_sources
    if not sources or sources.get("unknown") == verdict.sample_count:
        return None if not sources else "costs: none reported (every sample's cost unknown)"
    return (
        f"costs: {sources.get('recorded', 0):,} recorded, {sources.get('priced', 0):,} priced "
        f"from tokens, {sources.get('unknown', 0):,} unknown (never counted as free)"
    )


def status_word(verdict: RunVerdict) -> str:
    return verdict.status.upper()


def bounds(gate: GateResult) -> str:
    """The bounds a gate was judged on, `[low, high]` (the confidence policy's, or those
    below its minimum); empty where the point estimate alone judged it."""
    if gate.lower_bound is None and gate.upper_bound is None:
        return ""
    return f"[{number(gate.lower_bound, gate.metric)}, {number(gate.upper_bound, gate.metric)}]"


def policy_text(verdict: RunVerdict) -> str:
    policy = verdict.gate_policy or {}
    if policy.get("policy") == "confidence":
        return f"gates judged on one-sided bounds at confidence {policy['confidence']}"
    if "below_minimum_z" in policy:
        return (
            "gates judged on the point estimate; below its minimum sample count a gate is "
            f"judged on one-sided bounds at confidence {BELOW_MINIMUM_CONFIDENCE}: failed "
            "when they miss the threshold, else inconclusive, never passed"
        )
    return "gates judged on the point estimate"


def evidence(gate: GateResult, count: int) -> str:
    """The samples a gate judged on; `n of MIN` when below the gate's minimum."""
    return f"{count:,} of {gate.min_samples:,}" if 0 < count < gate.min_samples else f"{count:,}"


def gate_explanation(gate: GateResult, strict: bool, count: int = 0) -> str:
    if gate.status == "skipped":
        return "no data" + (" (fails under --strict)" if strict else "")
    if gate.status == "inconclusive" and gate.observed is None:  # a fail-closed metric
        return "no data: usage not reported is not zero usage" + (
            " (fails under --strict)" if strict else ""
        )
    if count < gate.min_samples and gate.status == "failed":
        return (
            f"{count:,} samples, fewer than the {gate.min_samples:,} it needs to pass, and "
            f"conclusive against it: bounds {bounds(gate)}, needs {gate.comparator} "
            f"{number(gate.threshold, gate.metric)}"
        )
    if count < gate.min_samples:
        return f"{count:,} samples, fewer than the {gate.min_samples:,} it needs to judge" + (
            " (fails under --strict)" if strict else ""
        )
    observed = number(gate.observed, gate.metric)
    shown = f" (bounds {bounds(gate)})" if bounds(gate) else ""
    return (
        f"observed {observed}{shown}, needs {gate.comparator} {number(gate.threshold, gate.metric)}"
    )


FLAKINESS_HEADERS = (
    "case",
    "provider",
    "attempts",
    "passes",
    "pass rate",
    "pass^k",
    "pass^k 95% lower",
    "flaky",
)
ERROR_HEADERS = ("sample", "case", "provider", "error")


def source_text(verdict: RunVerdict) -> str | None:
    """Where an imported run came from: the tool, its version, its eval id, attempts."""
    source = verdict.source
    if not source:
        return None
    version = f" {source['tool_version']}" if source.get("tool_version") else ""
    eval_id = f", eval {source['eval_id']}" if source.get("eval_id") else ""
    skipped = f", {source['skipped']} left out (--on-error skip)" if source.get("skipped") else ""
    return (
        f"from {source['tool']}{version} ({source['format']} format{eval_id}): "
        f"{source['attempts']} attempts, {source['errors']} errored{skipped}"
    )


def flakiness_rows(verdict: RunVerdict) -> list[tuple[str, ...]]:
    """Repeated cases, flaky ones first, then by case and provider."""
    cases = sorted(verdict.flakiness, key=lambda c: (not c.flaky, c.case_id, c.provider or ""))
    return [
        (
            printable(case.case_id),
            printable(case.provider or "-"),
            str(case.attempts),
            str(case.passes),
            f"{case.pass_rate:.4f}",
            f"{case.pass_k:.4f}",
            f"{case.pass_k_lower:.4f}",
            ("FLAKY" if case.flaky else ("all passed" if case.pass_all else "all failed"))
            + (" (quarantined)" if case.quarantined else ""),
        )
        for case in cases
    ]


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """`1 case`, `2 cases`."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"


def flakiness_summary(verdict: RunVerdict) -> str:
    flaky = sum(case.flaky for case in verdict.flakiness)
    return (
        f"{counted(len(verdict.flakiness), 'case')} tried more than once by a provider; "
        f"{flaky} flaky (flake rate {flaky / len(verdict.flakiness):.4f})"
    )


def error_rows(verdict: RunVerdict) -> list[tuple[str, ...]]:
    return [
        (
            printable(str(error["sample_id"])),
            printable(str(error.get("case_id") or "-")),
            printable(str(error.get("provider") or "-")),
            printable(str(error.get("error") or ""))[:120],
        )
        for error in verdict.errors
    ]


def errors_summary(verdict: RunVerdict) -> str:
    listed = len(verdict.errors)
    more = f" (the first {listed} listed)" if listed < verdict.error_count else ""
    each = "it fails" if verdict.error_count == 1 else "each fails"
    return (
        f"{counted(verdict.error_count, 'errored attempt')}{more}: {each} the checks it has no "
        "result for"
    )


def baseline_cells(result: MetricComparison) -> tuple[str, ...]:
    """One baseline comparison as the cells under BASELINE_HEADERS."""
    p_value = result.adjusted_p_value
    return (
        result.metric,
        number(result.baseline_value),
        number(result.candidate_value),
        "n/a" if result.delta_pp is None else f"{result.delta_pp:+.2f} pp",
        f"{result.tolerance_pp:g} pp",
        result.method + (f" ({result.pairs} pairs)" if result.pairs else ""),
        "n/a" if p_value is None else f"{p_value:.3g}",
        "REGRESSED" if result.regressed else "ok",
        ", ".join(result.flipped_case_ids or []),
    )


def baseline_rows(verdict: RunVerdict) -> list[tuple[str, ...]]:
    return [baseline_cells(result) for result in baseline.stored_comparisons(verdict.baseline)]


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
