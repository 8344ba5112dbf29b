"""Whole outputs of the renderers on fixed inputs (as sqlite-utils asserts whole CLI
output): the text, Markdown and JUnit reports of one run, and the text of one canary
decision. No database: the inputs are built here, with values that differ gate by gate
and row by row (a failed gate below its minimum, a skipped one, two inconclusive ones
with one-sided bounds; a regression against a baseline; an errored attempt; a flaky
case beside a steady one; a rollback beside an undecided trigger)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from ai_gate.evals import baseline
from ai_gate.evals.flakiness import CaseFlakiness
from ai_gate.evals.verdicts import GateResult, RunVerdict
from ai_gate.formatters import decision_text, junit, markdown, text
from ai_gate.formatters import json as json_format

# The JSON documents, whole, in files of their own (each a few hundred lines).
RENDERINGS = Path(__file__).parent / "renderings"


def run_report() -> RunVerdict:
    gates = [
        GateResult(
            "schema_valid_rate_min",
            "schema_valid_rate",
            ">=",
            0.98,
            0.6,
            "failed",
            0.45062,
            0.73294,
            100,
        ),
        GateResult(
            "patch_apply_success_min",
            "patch_apply_success",
            ">=",
            0.9,
            None,
            "skipped",
            None,
            None,
            100,
        ),
        GateResult(
            "safety_html_tailwind_compliance_min",
            "safety_html_tailwind_compliance",
            ">=",
            0.99,
            1.0,
            "inconclusive",
            0.91729,
            1.0,
            100,
        ),
        GateResult(
            "p95_latency_ms_max",
            "p95_latency_ms",
            "<=",
            20000.0,
            1027.55,
            "inconclusive",
            1025.0,
            None,
            100,
        ),
        GateResult(
            "mean_cost_usd_max",
            "mean_cost_usd",
            "<=",
            0.02,
            0.013411,
            "passed",
            None,
            None,
            0,
        ),
    ]
    comparison = baseline.MetricComparison(
        metric="schema_valid_rate",
        direction="higher",
        tolerance_pp=1.0,
        method="paired-mcnemar",
        baseline_value=0.9,
        candidate_value=0.6,
        delta_pp=30.0,
        pairs=30,
        p_value=0.0001,
        adjusted_p_value=0.0006,
        regressed=True,
        flipped_case_ids=["bakery", "dentist"],
    )
    return RunVerdict(
        run_id="release-42",
        status="failed",
        environment="prod",
        run_type="offline",
        strict=False,
        sample_count=30,
        metrics={
            "schema_valid_rate": 0.6,
            "patch_apply_success": None,
            "edit_after_generate_rate": None,
            "publish_conversion_proxy": None,
            "safety_html_tailwind_compliance": 1.0,
            "fallback_rate": None,
            "p95_latency_ms": 1027.55,
            "case_pass_k": 0.25,
            "mean_input_tokens": 1210.4,
            "mean_output_tokens": 2874.9,
            "mean_cost_usd": 0.013411,
            "cost_per_pass_usd": 0.022352,
            "cost_ratio": None,
        },
        metric_counts={
            "schema_valid_rate": 30,
            "safety_html_tailwind_compliance": 30,
            "p95_latency_ms": 30,
            "case_pass_k": 2,
            "mean_input_tokens": 28,
            "mean_output_tokens": 28,
            "mean_cost_usd": 29,
            "cost_per_pass_usd": 29,
        },
        intervals={
            "schema_valid_rate": (0.42324, 0.75414),
            "patch_apply_success": (None, None),
            "edit_after_generate_rate": (None, None),
            "publish_conversion_proxy": (None, None),
            "safety_html_tailwind_compliance": (0.88648, 1.0),
            "fallback_rate": (None, None),
            "mean_input_tokens": (1101.2, 1334.8),
            "mean_output_tokens": (2433.0, 3391.7),
            "mean_cost_usd": (0.011532, 0.015607),
            "cost_ratio": (None, None),
        },
        gates=gates,
        thresholds={
            "schema_valid_rate_min": 0.98,
            "patch_apply_success_min": 0.9,
            "safety_html_tailwind_compliance_min": 0.99,
            "p95_latency_ms_max": 20000.0,
            "case_pass_k_min": None,
            "mean_cost_usd_max": 0.02,
        },
        source_file="results.json",
        source_sha256="a" * 64,
        started_at="2026-12-07T10:00:00+00:00",
        finished_at="2026-12-07T10:00:02+00:00",
        metadata={
            "source": {
                "format": "promptfoo",
                "tool": "promptfoo",
                "tool_version": "0.121.20",
                "eval_id": "eval-abc",
                "file": "results.json",
                "file_sha256": "b" * 64,
                "map": {"schema_valid": "schema_valid"},
                "on_error": "fail",
                "attempts": 30,
                "errors": 1,
                "skipped": 0,
            }
        },
        triggered_by="ci",
        ci_job_id="1234",
        git_sha="0123abc",
        gate_policy={
            "policy": "point",
            "min_samples": {"schema_valid_rate_min": 100},
            "below_minimum_z": 1.6448536269514722,
        },
        baseline=baseline.as_json("release-41", [comparison]),
        flakiness=[
            CaseFlakiness.of("bakery", "custom", 3, 2),
            CaseFlakiness.of("dentist", "custom", 3, 3),
        ],
        cost_sources={"recorded": 1, "priced": 28, "unknown": 1},
        error_count=1,
        errors=[
            {
                "sample_id": "t4-p0",
                "case_id": "dentist",
                "provider": "custom",
                "error": "upstream timeout after 45000 ms",
            }
        ],
    )


def canary_decision():
    from ai_gate.rollout.canary import Arm, Decision
    from ai_gate.rollout.rule_types import Policy, Rate
    from ai_gate.rollout.rules import judge

    policy = Policy(
        max_fallback_rate=0.05,
        max_p95_latency_ms=20000.0,
        max_p50_latency_ratio=1.5,
        min_schema_valid_rate=0.97,
        min_telemetry_per_arm=200,
        min_eval_samples_per_arm=50,
        alpha=0.01,
        go_alpha=0.05,
        srm_alpha=0.001,
        max_cost_ratio=1.0,
        triggers=(
            ("safety_regression", "safety_html_tailwind_compliance", 0.0, 1.0),
            ("schema_valid_drop", "schema_valid_rate", 1.0, 1.25),
        ),
    )

    def arm(provider, served, routed, fallbacks, latencies, evals, unsafe, cost):
        from ai_gate.rollout.rules import latency_ranks, median_ranks

        ranks = latency_ranks(policy, latencies).all()
        order = {rank: 1000.0 + rank for rank in ranks}
        # costs per generation about `cost`, rising by rank
        costs = {rank: cost * (0.5 + rank / served) for rank in median_ranks(policy, served).all()}
        quality = {
            m: Rate(evals, evals)
            for m in (
                "schema_valid_rate",
                "patch_apply_success",
                "edit_after_generate_rate",
                "publish_conversion_proxy",
                "fallback_rate",
            )
        }
        quality["safety_html_tailwind_compliance"] = Rate(evals - unsafe, evals)
        return Arm(
            provider=provider,
            served_rows=served,
            routed_rows=routed,
            synthetic_rows=0,
            fallback=Rate(fallbacks, routed),
            latency_samples=latencies,
            latency_quantiles={"p50": 1500.0, "p90": 2500.0, "p95": 3000.0, "p99": 5000.0},
            latency_above_p95_ceiling=0,
            latency_order_statistics=order,
            eval_samples=evals,
            quality=quality,
            cost_samples=served,
            priced_costs=served,
            cost_p50=cost,
            cost_mean=cost * 1.1,
            cost_order_statistics=costs,
        )

    canary = arm("custom", 2000, 2000, 10, 2000, 400, 12, 0.0068)
    base = arm("openai", 40000, 40000, 200, 40000, 400, 0, 0.0134)
    verdict, rules = judge(canary.counts(), base.counts(), policy, 0.0476, (2000, 40000))
    t0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    t1 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    return Decision(
        decision_id=7,
        decision=verdict,
        environment="prod",
        canary="custom",
        baseline="openai",
        window_start=t0,
        window_end=t1,
        eval_run_id=None,
        rules=rules,
        arms={"custom": canary, "openai": base},
        synthetic_rows=0,
        production_rows=42000,
        alpha=0.01,
        look=3,
        step_start=t0,
        expected_canary_share=0.0476,
        ignored_eval_runs=[{"run_id": "nightly-suite", "run_type": "scheduled", "samples": 30}],
        evidence_eval_runs=[{"run_id": "canary-sample-7", "run_type": "canary", "samples": 400}],
    )


TREND = [
    ("release-41", {"schema_valid_rate_min": (0.9, "failed")}),
    ("release-42", {"schema_valid_rate_min": (0.6, "failed")}),
]


def test_the_text_report_whole() -> None:
    assert text.verdict_report(run_report()) == TEXT_REPORT


def test_the_markdown_report_whole() -> None:
    assert markdown.verdict_report(run_report(), TREND) == MARKDOWN_REPORT


def test_the_junit_report_whole() -> None:
    assert junit.verdict_report(run_report()) == JUNIT_REPORT


def test_the_decision_text_whole() -> None:
    assert decision_text.decision_text(canary_decision()) == DECISION_TEXT


def test_the_json_report_and_decision_whole() -> None:
    """The published JSON shapes: the eval report (`--report-json`) and a decision
    (`canary evaluate --json`)."""
    assert json_format.verdict_report(run_report()) == (RENDERINGS / "eval_report.json").read_text()
    assert json_format.decision(canary_decision()) == (RENDERINGS / "decision.json").read_text()


TEXT_REPORT = """\
ai-gate eval run release-42: FAILED
environment prod, offline, 30 samples, source results.json
from promptfoo 0.121.20 (promptfoo format, eval eval-abc): 30 attempts, 1 errored

gate                                 observed  bounds                threshold  n          status
-----------------------------------  --------  ----------------  --  ---------  ---------  ------------
schema_valid_rate_min                0.6000    [0.4506, 0.7329]  >=  0.9800     30 of 100  FAILED
patch_apply_success_min              n/a                         >=  0.9000     0          SKIPPED
safety_html_tailwind_compliance_min  1.0000    [0.9173, 1.0000]  >=  0.9900     30 of 100  INCONCLUSIVE
p95_latency_ms_max                   1,027.5   [1,025.0, n/a]    <=  20,000.0   30 of 100  INCONCLUSIVE
mean_cost_usd_max                    0.013411                    <=  0.020000   29         PASSED
gates judged on the point estimate; below its minimum sample count a gate is judged on one-sided bounds at confidence 0.95: failed when they miss the threshold, else inconclusive, never passed
switched off: case_pass_k_min

metric                           value     n   95% interval
-------------------------------  --------  --  --------------------
schema_valid_rate                0.6000    30  [0.4232, 0.7541]
patch_apply_success              n/a       0
edit_after_generate_rate         n/a       0
publish_conversion_proxy         n/a       0
safety_html_tailwind_compliance  1.0000    30  [0.8865, 1.0000]
fallback_rate                    n/a       0
p95_latency_ms                   1,027.5   30
case_pass_k                      0.2500    2
mean_input_tokens                1,210.4   28  [1,101.2, 1,334.8]
mean_output_tokens               2,874.9   28  [2,433.0, 3,391.7]
mean_cost_usd                    0.013411  29  [0.011532, 0.015607]
cost_per_pass_usd                0.022352  29
cost_ratio                       n/a       0
costs: 1 recorded, 28 priced from tokens, 1 unknown (never counted as free)

against baseline run release-41 (alpha 0.05):
metric             baseline  candidate  regression  tolerance  method                     p (Holm)  verdict    flipped pass -> fail
-----------------  --------  ---------  ----------  ---------  -------------------------  --------  ---------  --------------------
schema_valid_rate  0.9000    0.6000     +30.00 pp   1 pp       paired-mcnemar (30 pairs)  0.0006    REGRESSED  bakery, dentist

1 errored attempt: it fails the checks it has no result for
sample  case     provider  error
------  -------  --------  -------------------------------
t4-p0   dentist  custom    upstream timeout after 45000 ms

2 cases tried more than once by a provider; 1 flaky (flake rate 0.5000)
case     provider  attempts  passes  pass rate  pass^k  pass^k 95% lower  flaky
-------  --------  --------  ------  ---------  ------  ----------------  ----------
bakery   custom    3         2       0.6667     0.2963  0.0163            FLAKY
dentist  custom    3         3       1.0000     1.0000  0.1454            all passed
"""

MARKDOWN_REPORT = """\
## Eval gate: FAILED ❌

Run `release-42` · environment `prod` · offline · 30 samples · source `results.json`

from promptfoo 0.121.20 (promptfoo format, eval eval-abc): 30 attempts, 1 errored

gates judged on the point estimate; below its minimum sample count a gate is judged on one-sided bounds at confidence 0.95: failed when they miss the threshold, else inconclusive, never passed

| gate | observed | bounds | | threshold | n | status |
|---|---:|---|:-:|---:|---:|---|
| `schema_valid_rate_min` | 0.6000 | [0.4506, 0.7329] | >= | 0.9800 | 30 of 100 | ❌ failed |
| `patch_apply_success_min` | n/a |  | >= | 0.9000 | 0 | ⚪ skipped |
| `safety_html_tailwind_compliance_min` | 1.0000 | [0.9173, 1.0000] | >= | 0.9900 | 30 of 100 | ❔ inconclusive |
| `p95_latency_ms_max` | 1,027.5 | [1,025.0, n/a] | <= | 20,000.0 | 30 of 100 | ❔ inconclusive |
| `mean_cost_usd_max` | 0.013411 |  | <= | 0.020000 | 29 | ✅ passed |

Switched off: `case_pass_k_min`

| metric | value | n | 95% interval |
|---|---:|---:|---|
| `schema_valid_rate` | 0.6000 | 30 | [0.4232, 0.7541] |
| `patch_apply_success` | n/a | 0 |  |
| `edit_after_generate_rate` | n/a | 0 |  |
| `publish_conversion_proxy` | n/a | 0 |  |
| `safety_html_tailwind_compliance` | 1.0000 | 30 | [0.8865, 1.0000] |
| `fallback_rate` | n/a | 0 |  |
| `p95_latency_ms` | 1,027.5 | 30 |  |
| `case_pass_k` | 0.2500 | 2 |  |
| `mean_input_tokens` | 1,210.4 | 28 | [1,101.2, 1,334.8] |
| `mean_output_tokens` | 2,874.9 | 28 | [2,433.0, 3,391.7] |
| `mean_cost_usd` | 0.013411 | 29 | [0.011532, 0.015607] |
| `cost_per_pass_usd` | 0.022352 | 29 |  |
| `cost_ratio` | n/a | 0 |  |

Costs: 1 recorded, 28 priced from tokens, 1 unknown (never counted as free).

Against baseline run `release-41` (alpha 0.05):

| metric | baseline | candidate | regression | tolerance | method | p (Holm) | verdict | flipped pass -> fail |
|---|---|---|---|---|---|---|---|---|
| schema_valid_rate | 0.9000 | 0.6000 | +30.00 pp | 1 pp | paired-mcnemar (30 pairs) | 0.0006 | REGRESSED | bakery, dentist |

1 errored attempt: it fails the checks it has no result for:

| sample | case | provider | error |
|---|---|---|---|
| t4-p0 | dentist | custom | upstream timeout after 45000 ms |

2 cases tried more than once by a provider; 1 flaky (flake rate 0.5000):

| case | provider | attempts | passes | pass rate | pass^k | pass^k 95% lower | flaky |
|---|---|---|---|---|---|---|---|
| bakery | custom | 3 | 2 | 0.6667 | 0.2963 | 0.0163 | FLAKY |
| dentist | custom | 3 | 3 | 1.0000 | 1.0000 | 0.1454 | all passed |

Trend: the last 2 runs of the environment (oldest first)

| run | `schema_valid_rate_min` |
|---|---:|
| `release-41` | ❌ 0.9000 |
| `release-42` | ❌ 0.6000 |
"""

JUNIT_REPORT = """\
<?xml version='1.0' encoding='utf-8'?>
<testsuite name="ai-gate eval gates (prod)" tests="9" failures="2" errors="1" skipped="3">
  <properties>
    <property name="run_id" value="release-42" />
    <property name="status" value="failed" />
    <property name="sample_count" value="30" />
    <property name="error_count" value="1" />
    <property name="costs_recorded" value="1" />
    <property name="costs_priced" value="28" />
    <property name="costs_unknown" value="1" />
  </properties>
  <testcase classname="ai_gate.gates" name="schema_valid_rate_min">
    <failure message="30 samples, fewer than the 100 it needs to pass, and conclusive against it: bounds [0.4506, 0.7329], needs &gt;= 0.9800" type="failed" />
  </testcase>
  <testcase classname="ai_gate.gates" name="patch_apply_success_min">
    <skipped message="no data" />
  </testcase>
  <testcase classname="ai_gate.gates" name="safety_html_tailwind_compliance_min">
    <skipped message="inconclusive: 30 samples, fewer than the 100 it needs to judge" />
  </testcase>
  <testcase classname="ai_gate.gates" name="p95_latency_ms_max">
    <skipped message="inconclusive: 30 samples, fewer than the 100 it needs to judge" />
  </testcase>
  <testcase classname="ai_gate.gates" name="mean_cost_usd_max" />
  <testcase classname="ai_gate.baseline" name="schema_valid_rate vs baseline">
    <failure message="regressed +30.00 pp (tolerance 1 pp, p 0.0006); flipped: bakery, dentist" type="regressed" />
  </testcase>
  <testcase classname="ai_gate.errors" name="t4-p0 (dentist)">
    <error message="upstream timeout after 45000 ms" type="error" />
  </testcase>
  <testcase classname="ai_gate.flakiness" name="bakery (custom)">
    <system-out>flaky: 2 of 3 attempts passed (pass rate 0.6667, pass^k 0.2963, 95% lower bound 0.0163)</system-out>
  </testcase>
  <testcase classname="ai_gate.flakiness" name="dentist (custom)" />
</testsuite>
"""

DECISION_TEXT = """\
canary decision #7: ROLLBACK (custom vs openai, prod)
window 2026-12-07 08:00 to 2026-12-07 12:00 UTC; look 3; 42,000 production and 0 synthetic telemetry rows used
alpha 0.01 over the rollout (anytime-valid: exact e-processes on counts and quantile confidence sequences; conditional e-process / Newcombe + normal-mixture z (ADR 0004))

rule                   kind       observed      threshold  custom     openai     status     evidence
---------------------  ---------  --------  --  ---------  ---------  ---------  ---------  -----------------------------------------------------------------------------------
custom_telemetry_rows  minimum    2,000     >=  200        2,000      40,000     OK
custom_eval_samples    minimum    400       >=  50         400        400        OK
openai_telemetry_rows  minimum    40,000    >=  200        2,000      40,000     OK
openai_eval_samples    minimum    400       >=  50         400        400        OK
sample_ratio           srm        0.0476    =   0.0476     2,000      40,000     OK         breach bound 0.0433; go bound 0.0524; p=0.98
max_fallback_rate      guardrail  0.0050    <=  0.0500     0.0050     0.0050     OK         10 of 2,000: e go 7.93e+28, e breach 0.000555; breach bound 0.0006; go bound 0.0109
max_p95_latency_ms     guardrail  3,000     <=  20,000     3,000      3,000      OK         0 of 2,000: e go 3.57e+42, e breach 0.0005; breach bound 2,853; go bound 2,929
max_p50_latency_ratio  guardrail  1.00      <=  1.50       1,500      1,500      OK         breach bound 0.09; go bound 0.10
max_cost_ratio         guardrail  0.51      <=  1.00       $0.006800  $0.013400  OK         breach bound 0.48; go bound 0.53
min_schema_valid_rate  guardrail  1.0000    >=  0.9700     1.0000     1.0000     OK         0 of 400: e go 1.63e+04, e breach 0.00249; breach bound 1.0000; go bound 0.9888
safety_regression      rollback   3.00      <=  0.00       0.9700     1.0000     BREACHED   e=630; go bound 6.39 (margin 1.00)
schema_valid_drop      rollback   0.00      <=  1.00       1.0000     1.0000     UNDECIDED  breach bound -3.10; go bound 1.88 (margin 1.25)

arm     served  fallback rate    latency p50 / p90 / p95 / p99 ms  cost p50 / mean                 schema_valid_rate  safety_html_tailwind_compliance
------  ------  ---------------  --------------------------------  ------------------------------  -----------------  -------------------------------
custom  2,000   0.0050 n=2,000   1,500 / 2,500 / 3,000 / 5,000     $0.006800 / $0.007480 n=2,000   1.0000 n=400       0.9700 n=400
openai  40,000  0.0050 n=40,000  1,500 / 2,500 / 3,000 / 5,000     $0.013400 / $0.014740 n=40,000  1.0000 n=400       1.0000 n=400

left out of quality: 1 eval run that is not canary evidence (run type canary: production samples scored): nightly-suite (scheduled, 30 samples)
"""
