"""Results files written by the real tools (examples/promptfoo, examples/inspect,
examples/deepeval; scripts/evals/regenerate_examples.sh makes them) go through
`ai-gate run` as they are. Every rate, count and flaky case is recomputed here straight
from the tool's file, by this test's own reading of it, and compared with the report."""

from __future__ import annotations

import json
import zipfile
from collections import defaultdict
from pathlib import Path
from xml.etree import ElementTree

import pytest
from conftest import ClonedDatabase

pytestmark = pytest.mark.xdist_group("importers")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PROMPTFOO = EXAMPLES / "promptfoo" / "results.json"
INSPECT = EXAMPLES / "inspect" / "site_generation.json"
DEEPEVAL = EXAMPLES / "deepeval" / "test_run.json"
RECORDS = EXAMPLES / "evals" / "passing.jsonl"
FIELDS = ("schema_valid", "safety_html_tailwind_compliant")
METRIC_OF = {
    "schema_valid": "schema_valid_rate",
    "safety_html_tailwind_compliant": ("safety_html_tailwind_compliance"),
}


# --- this test's own reading of each tool's file: attempts as (case, provider, checks,
# errored), where checks maps a field to True/False/None -------------------------------


def promptfoo_attempts() -> list[tuple[str, str, dict[str, bool | None], bool]]:
    attempts = []
    for result in json.loads(PROMPTFOO.read_text())["results"]["results"]:
        errored = result["failureReason"] == 2
        checks: dict[str, bool | None] = {}
        for component in (result.get("gradingResult") or {}).get("componentResults") or []:
            metric = component["assertion"].get("metric")
            checks[metric] = checks.get(metric, True) and component["pass"]
        attempts.append(
            (
                result["testCase"]["metadata"]["case_id"],
                result["provider"]["label"],
                checks,
                errored,
            )
        )
    return attempts


def inspect_attempts() -> list[tuple[str, str, dict[str, bool | None], bool]]:
    log = json.loads(INSPECT.read_text())
    return [
        (
            sample["id"],
            sample["output"].get("model") or log["eval"]["model"],
            {name: score["value"] == "C" for name, score in (sample.get("scores") or {}).items()},
            bool(sample.get("error")),
        )
        for sample in log["samples"]
    ]


def deepeval_attempts() -> list[tuple[str, None, dict[str, bool | None], bool]]:
    attempts = []
    for case in json.loads(DEEPEVAL.read_text())["testCases"]:
        checks = {
            m["name"]: (None if m.get("error") else m["success"]) for m in case["metricsData"]
        }
        attempts.append(
            (case["name"], None, checks, any(m.get("error") for m in case["metricsData"]))
        )
    return attempts


def expected(attempts: list, on_error: str = "fail") -> dict[str, object]:
    """Rates, counts and flaky cases as the report must give them."""
    kept = [a for a in attempts if not (a[3] and on_error == "skip")]
    rates = {}
    for field in FIELDS:
        values = [
            (False if a[3] else None) if a[2].get(field) is None else a[2][field] for a in kept
        ]
        known = [v for v in values if v is not None]
        rates[METRIC_OF[field]] = (sum(known) / len(known), len(known))
    by_case: dict[tuple, list[bool]] = defaultdict(list)
    for case, provider, checks, errored in kept:
        by_case[(case, provider)].append(
            not errored and all(checks.get(f) is not False for f in FIELDS)
        )
    repeated = {key: passes for key, passes in by_case.items() if len(passes) > 1}
    flaky = {key for key, passes in repeated.items() if any(passes) and not all(passes)}
    return {
        "rates": rates,
        "samples": len(kept),
        "errors": sum(a[3] for a in attempts),  # errored attempts in the file
        # of them, those ingested (kept, failing their checks) and those left out
        "error_count": sum(a[3] for a in kept),
        "skipped": len(attempts) - len(kept),
        "repeated": {key: (len(p), sum(p)) for key, p in repeated.items()},
        "flaky": flaky,
    }


def run_json(db: ClonedDatabase, tmp_path: Path, *args: str) -> tuple[int, dict, str]:
    report = tmp_path / f"report-{len(list(tmp_path.iterdir()))}.json"
    result = db.cli("run", *args, "--env", "staging", "--report-json", str(report))
    assert result.returncode in (0, 2, 4), result.stderr
    return result.returncode, json.loads(report.read_text()), result.stdout + result.stderr


def assert_matches(report: dict, want: dict) -> None:
    assert report["sample_count"] == want["samples"]
    for metric, (rate, count) in want["rates"].items():
        assert report["metrics"][metric] == pytest.approx(rate, abs=0.001), metric
        assert report["metric_counts"][metric] == count, metric
    assert report["error_count"] == want["error_count"]
    assert report["source"]["errors"] == want["errors"]
    assert report["source"]["skipped"] == want["skipped"]
    got = {(c["case_id"], c["provider"]): (c["attempts"], c["passes"]) for c in report["flakiness"]}
    assert got == want["repeated"]
    assert {(c["case_id"], c["provider"]) for c in report["flakiness"] if c["flaky"]} == want[
        "flaky"
    ]
    for case in report["flakiness"]:
        assert case["pass_rate"] == pytest.approx(case["passes"] / case["attempts"], abs=0.001)
        assert case["pass_all"] == (case["passes"] == case["attempts"])
        assert case["pass_k"] == pytest.approx(case["pass_rate"] ** case["attempts"], abs=0.001)
        assert 0 <= case["pass_k_lower"] <= case["pass_k"]


@pytest.mark.parametrize(
    ("path", "attempts", "tool", "version", "eval_id"),
    [
        (PROMPTFOO, promptfoo_attempts, "promptfoo", "0.121.20", "eval-m3a-2026-12-07T05:43:11"),
        (INSPECT, inspect_attempts, "inspect-ai", "0.3.285", "9BPMQPVWHiGNQuWqsrDu3o"),
        (DEEPEVAL, deepeval_attempts, "deepeval", None, None),
    ],
    ids=["promptfoo", "inspect", "deepeval"],
)
def test_every_rate_matches_a_recomputation_from_the_tools_file(
    built_db: ClonedDatabase, tmp_path: Path, path, attempts, tool, version, eval_id
) -> None:
    code, report, _ = run_json(built_db, tmp_path, str(path))  # format told from content
    want = expected(attempts())
    assert_matches(report, want)
    assert report["source"]["tool"] == tool
    assert report["source"]["tool_version"] == version
    assert report["source"]["eval_id"] == eval_id
    assert code == {"passed": 0, "failed": 2, "inconclusive": 4}[report["status"]]
    # check shows where the run came from, and lists the errored attempts
    checked = built_db.cli("check", "--run-id", report["run_id"])
    assert f"from {tool}{' ' + version if version else ''}" in checked.stdout
    noun = "errored attempt" if want["errors"] == 1 else "errored attempts"
    assert f"{want['errors']} {noun}" in checked.stdout


def promptfoo_usage() -> list[tuple[str, int | None, int | None, float | None]]:
    """(provider, input tokens, output tokens, cost) of each result, by this test's own
    reading: promptfoo's zeros are no usage, its cost of 0 no cost (docs/cost.md)."""
    usage = []
    for result in json.loads(PROMPTFOO.read_text())["results"]["results"]:
        tokens = (result.get("response") or {}).get("tokenUsage") or result["tokenUsage"]
        reported = bool(tokens.get("prompt") or tokens.get("completion"))
        usage.append(
            (
                result["provider"]["label"],
                tokens["prompt"] if reported else None,
                tokens["completion"] if reported else None,
                result["cost"] or None,
            )
        )
    return usage


def inspect_usage() -> list[tuple[str, int | None, int | None, float | None]]:
    log = json.loads(INSPECT.read_text())
    usage = []
    for sample in log["samples"]:
        models = sample.get("model_usage") or {}
        costs = [m.get("total_cost") for m in models.values()]
        usage.append(
            (
                sample["output"].get("model") or log["eval"]["model"],
                sum(m["input_tokens"] for m in models.values()) if models else None,
                sum(m["output_tokens"] for m in models.values()) if models else None,
                sum(costs) if models and None not in costs else None,
            )
        )
    return usage


@pytest.mark.parametrize(
    ("path", "usage"),
    [(PROMPTFOO, promptfoo_usage), (INSPECT, inspect_usage)],
    ids=["promptfoo", "inspect"],
)
def test_tokens_and_costs_per_provider_match_a_recomputation_from_the_tools_file(
    built_db: ClonedDatabase, tmp_path: Path, path, usage
) -> None:
    """Each provider's tokens, recorded costs and cost sources, as stored and as the
    report gives them, against this test's own reading of the file. Neither example's
    unreported costs has a price (seed ai_provider_prices: no `custom` row without a
    model, no `mockllm` row): they stay unknown, never 0."""
    _, report, _ = run_json(built_db, tmp_path, str(path))
    want: dict[str, list] = {}
    for provider, input_tokens, output_tokens, cost in usage():
        totals = want.setdefault(provider, [0, 0, 0.0, 0, 0])
        totals[0] += input_tokens or 0
        totals[1] += output_tokens or 0
        totals[2] += cost or 0.0
        totals[3 if cost is not None else 4] += 1
    rows = built_db.execute(
        "select selected_provider, sum(input_tokens), sum(output_tokens),"
        " coalesce(sum(cost_usd), 0), count(*) filter (where cost_source = 'recorded'),"
        " count(*) filter (where cost_source = 'unknown')"
        " from ai_eval_samples where run_id = %s group by 1",
        (report["run_id"],),
    )
    got = {row[0]: [int(row[1] or 0), int(row[2] or 0), row[3], row[4], row[5]] for row in rows}
    assert set(got) == set(want)
    for provider, totals in want.items():
        assert got[provider][:2] == totals[:2], provider
        assert got[provider][2] == pytest.approx(totals[2], rel=1e-9), provider
        assert got[provider][3:] == totals[3:], provider
    costs = [cost for _, _, _, cost in usage() if cost is not None]
    outputs = [tokens for _, _, tokens, _ in usage() if tokens is not None]
    assert report["cost_sources"] == {
        "recorded": len(costs),
        "priced": 0,
        "unknown": len(usage()) - len(costs),
    }
    assert report["metrics"]["mean_cost_usd"] == pytest.approx(sum(costs) / len(costs))
    assert report["metric_counts"]["mean_cost_usd"] == len(costs)
    assert report["metrics"]["mean_output_tokens"] == pytest.approx(sum(outputs) / len(outputs))


def test_promptfoo_flaky_cases_and_errors_in_every_report(
    built_db: ClonedDatabase, tmp_path: Path
) -> None:
    markdown, junit = tmp_path / "r.md", tmp_path / "r.xml"
    code, report, _ = run_json(
        built_db, tmp_path, str(PROMPTFOO), "--report-md", str(markdown), "--junit", str(junit)
    )
    assert code == 2  # the pass-rate gates fail: schema_valid 0.6, safety 0.33 in staging
    flaky = [(c["case_id"], c["provider"]) for c in report["flakiness"] if c["flaky"]]
    assert flaky == [("flaky-hero", "custom"), ("flaky-hero", "openai")]
    assert report["flake_rate"] == pytest.approx(2 / 10)
    # Markdown: flaky cases first
    rows = [line for line in markdown.read_text().splitlines() if line.startswith("| ")]
    case_rows = [row for row in rows if row.count("|") == 9 and "attempts" not in row]
    assert [row.split("|")[1].strip() for row in case_rows[:2]] == ["flaky-hero", "flaky-hero"]
    assert all("FLAKY" not in row for row in case_rows[2:])
    assert "6 errored attempts" in markdown.read_text()
    # JUnit: a test case per repeated case, the flaky ones say so; an error per errored one
    suite = ElementTree.parse(junit).getroot()
    cases = suite.findall("testcase[@classname='ai_gate.flakiness']")
    assert len(cases) == 10
    said_flaky = {case.get("name") for case in cases if case.find("system-out") is not None}
    assert said_flaky == {"flaky-hero (custom)", "flaky-hero (openai)"}
    assert suite.get("errors") == "6"
    assert len(suite.findall("testcase[@classname='ai_gate.errors']/error")) == 6


def test_errored_attempts_can_be_left_out_and_are_counted(
    built_db: ClonedDatabase, tmp_path: Path
) -> None:
    _, report, output = run_json(built_db, tmp_path, str(PROMPTFOO), "--on-error", "skip")
    assert_matches(report, expected(promptfoo_attempts(), on_error="skip"))
    assert report["sample_count"] == 24 and report["source"]["skipped"] == 6
    assert "6 errored left out (--on-error skip)" in output


def test_a_map_names_the_tools_checks(built_db: ClonedDatabase, tmp_path: Path) -> None:
    renamed = json.loads(INSPECT.read_text())
    for sample in renamed["samples"]:
        scores = sample.get("scores") or {}
        if "schema_valid" in scores:
            scores["json_ok"] = scores.pop("schema_valid")
    source = tmp_path / "renamed.json"
    source.write_text(json.dumps(renamed))
    # without a map, the required field has no check
    refused = built_db.cli("run", str(source), "--env", "staging")
    assert refused.returncode == 3
    assert "need schema_valid (required)" in refused.stderr
    mapping = tmp_path / "map.yml"
    mapping.write_text(
        "schema_valid: json_ok\nsafety_html_tailwind_compliant: safety_html_tailwind_compliant\n"
    )
    _, report, _ = run_json(built_db, tmp_path, str(source), "--map", str(mapping))
    assert_matches(report, expected(inspect_attempts()))
    assert report["source"]["map"]["schema_valid"] == "json_ok"


WRONG_FORMAT = {
    "inspect-as-promptfoo": (
        ["--format", "promptfoo", str(INSPECT)],
        "not a promptfoo results file (found: an inspect-ai log (JSON or .eval))",
    ),
    "records-as-inspect": (
        ["--format", "inspect", str(RECORDS)],
        "not an inspect-ai log (JSON or .eval) (found: ai-gate eval records (JSONL))",
    ),
    "deepeval-as-records": (
        ["--format", "records", str(DEEPEVAL)],
        "not ai-gate eval records (JSONL) (found: a deepeval test run)",
    ),
    "promptfoo-as-deepeval": (
        ["--format", "deepeval", str(PROMPTFOO)],
        "not a deepeval test run (found: a promptfoo results file)",
    ),
}


@pytest.mark.parametrize(("args", "message"), WRONG_FORMAT.values(), ids=WRONG_FORMAT.keys())
def test_a_file_of_another_format_is_rejected_with_nothing_written(
    built_db: ClonedDatabase, args: list[str], message: str
) -> None:
    result = built_db.cli("run", *args)
    assert result.returncode == 3, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert built_db.execute("select count(*) from ai_eval_runs") == [(0,)]


def test_bad_maps_and_unreadable_files_are_rejected(
    built_db: ClonedDatabase, tmp_path: Path
) -> None:
    unknown = tmp_path / "unknown.yml"
    unknown.write_text("accessible: schema_valid\n")
    absent = tmp_path / "absent.yml"
    absent.write_text("schema_valid: json_ok\n")
    archive = tmp_path / "log.eval"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("header.json", "{}")
    other = tmp_path / "other.json"
    other.write_text('{"hello": "world"}')
    cases = [
        (["--map", str(unknown), str(PROMPTFOO)], "map: accessible: not an ai-gate record field"),
        (["--map", str(absent), str(PROMPTFOO)], "map: json_ok: no check of that name in"),
        # an .eval archive is read (a header-only one is not a finished evaluation)
        ([str(archive)], "log.eval: the inspect-ai log has no status, not 'success'"),
        ([str(other)], "not a format ai-gate reads"),
        (["--map", str(absent), str(RECORDS)], "--map applies to the results of another tool"),
    ]
    for args, message in cases:
        result = built_db.cli("run", *args)
        assert result.returncode == 3, (args, result.stderr)
        assert message in result.stderr, result.stderr
    assert built_db.execute("select count(*) from ai_eval_runs") == [(0,)]


def test_a_pinned_baseline_shows_per_case_regressions(
    built_db: ClonedDatabase, tmp_path: Path
) -> None:
    """promptfoo #1395: a pinned baseline, and the cases that regressed against it."""
    _, pinned, _ = run_json(built_db, tmp_path, str(PROMPTFOO))
    worse = json.loads(PROMPTFOO.read_text())
    for result in worse["results"]["results"]:
        if result["testCase"]["metadata"]["case_id"] == "bakery":
            for component in result["gradingResult"]["componentResults"]:
                if component["assertion"]["metric"] == "safety_html_tailwind_compliant":
                    component["pass"] = False
    candidate = tmp_path / "candidate.json"
    candidate.write_text(json.dumps(worse))
    code, report, output = run_json(
        built_db, tmp_path, str(candidate), "--baseline", pinned["run_id"]
    )
    assert code == 2
    safety = next(
        m for m in report["baseline"]["metrics"] if m["metric"] == "safety_html_tailwind_compliance"
    )
    # paired on the five cases (a case is good when all its attempts are): bakery flipped
    assert safety["method"] == "paired-mcnemar" and safety["pairs"] == 5
    assert safety["flipped_case_ids"] == ["bakery"]
    # one flip in five cases is no significant regression: the gates fail the run
    assert not safety["regressed"]
    assert "bakery" in output


def test_a_gate_on_pass_k_and_a_quarantine_that_keeps_cases_out_of_the_gates(
    built_db: ClonedDatabase, tmp_path: Path
) -> None:
    """The pass^k gate is off in the seeds; switched on, it judges the lowest pass^k of
    the repeated cases. Quarantined cases leave the gates (and v2) but stay reported."""
    thresholds = tmp_path / "thresholds.yml"
    thresholds.write_text("case_pass_k_min: 0.2\n")
    _, seeded, _ = run_json(built_db, tmp_path, str(PROMPTFOO))
    assert "case_pass_k_min" in seeded["gates_switched_off"]

    _, report, _ = run_json(built_db, tmp_path, str(PROMPTFOO), "--thresholds", str(thresholds))
    gate = next(g for g in report["gates"] if g["gate"] == "case_pass_k_min")
    # unsafe-embed, broken-json and provider-error never pass: pass^3 = 0
    assert (gate["observed"], gate["status"]) == (0.0, "failed")
    assert report["metric_counts"]["case_pass_k"] == 10

    built_db.execute(
        "insert into ai_eval_quarantine (environment, case_id, reason) values"
        " ('staging', 'unsafe-embed', 'known'), ('staging', 'broken-json', 'known'),"
        " ('staging', 'provider-error', 'known')"
    )
    _, quarantined, output = run_json(
        built_db, tmp_path, str(PROMPTFOO), "--thresholds", str(thresholds)
    )
    assert quarantined["run_id"] != report["run_id"]  # the quarantine is part of the policy
    assert quarantined["gate_policy"]["quarantine"] == [
        "broken-json",
        "provider-error",
        "unsafe-embed",
    ]
    gate = next(g for g in quarantined["gates"] if g["gate"] == "case_pass_k_min")
    # left: bakery (3 of 3) and flaky-hero (2 of 3): min pass^3 = (2/3)^3
    assert gate["observed"] == pytest.approx((2 / 3) ** 3, abs=0.001)
    assert gate["status"] == "passed"
    assert quarantined["metric_counts"]["case_pass_k"] == 4
    # the other gates judge the 12 attempts of the two cases left
    assert quarantined["metric_counts"]["schema_valid_rate"] == 12
    assert quarantined["metrics"]["schema_valid_rate"] == 1.0
    assert quarantined["metrics"]["safety_html_tailwind_compliance"] == pytest.approx(10 / 12)
    # still reported: every repeated case, the quarantined ones marked; the errors too
    marked = {(c["case_id"], c["provider"]) for c in quarantined["flakiness"] if c["quarantined"]}
    assert len(quarantined["flakiness"]) == 10 and len(marked) == 6
    assert quarantined["error_count"] == 6
    assert "all failed (quarantined)" in output
    # the stored verdict agrees with the dbt test of stored statuses and with v2
    v2 = built_db.execute(
        "select value, n from ai_eval_run_summary_v2 where run_id = %s and metric = 'case_pass_k'",
        (quarantined["run_id"],),
    )
    assert v2 == [(pytest.approx((2 / 3) ** 3), 4)]


def test_an_inspect_scorer_with_several_values_and_a_score_that_is_no_verdict(
    built_db: ClonedDatabase, tmp_path: Path
) -> None:
    """A scorer returning a dict gives one check per key (`scorer.key`); a value that
    is no pass/fail (a partial `P`) is refused, naming the sample and the scorer."""
    log = json.loads(INSPECT.read_text())
    for sample in log["samples"]:
        scores = sample.get("scores") or {}
        if scores:
            scores["checks"] = {
                "value": {
                    "json": scores.pop("schema_valid")["value"],
                    "safe": scores.pop("safety_html_tailwind_compliant")["value"],
                }
            }
    several = tmp_path / "several.json"
    several.write_text(json.dumps(log))
    mapping = tmp_path / "map.yml"
    mapping.write_text("schema_valid: checks.json\nsafety_html_tailwind_compliant: checks.safe\n")
    _, report, _ = run_json(built_db, tmp_path, str(several), "--map", str(mapping))
    assert_matches(report, expected(inspect_attempts()))

    log["samples"][1]["scores"]["checks"]["value"]["json"] = "P"
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps(log))
    refused = built_db.cli("run", str(partial), "--map", str(mapping))
    assert refused.returncode == 3
    assert (
        f"{partial}: samples[1].scores.checks: a score must be C or I, true or false, 1 or 0"
        " to be a check; got 'P'" in refused.stderr
    )
    assert built_db.execute("select count(*) from ai_eval_runs") == [(1,)]
