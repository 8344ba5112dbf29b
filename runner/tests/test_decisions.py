"""Decisions that survive noise, through the CLI: the release gate's confidence
policy, the baseline comparison, the canary across seeds, and the dbt tests of the
seeds' new columns failing on bad values."""

from __future__ import annotations

import json
import random
from pathlib import Path
from xml.etree import ElementTree

from conftest import ClonedDatabase
from test_dbt_data_tests import dbt_test, failing

REPO = Path(__file__).resolve().parents[2]
PASSING = REPO / "examples" / "evals" / "passing.jsonl"


def records(path: Path, count: int, schema_invalid: float, seed: int, cases: bool = True) -> Path:
    rng = random.Random(seed)
    with path.open("w") as handle:
        for index in range(count):
            record: dict[str, object] = {
                "sample_id": f"s{index}",
                "schema_valid": rng.random() >= schema_invalid,
                "safety_html_tailwind_compliant": True,
                "fallback_used": False,
                "latency_ms": 1000 + index % 700,
            }
            if cases:
                record["case_id"] = f"case-{index}"
            handle.write(json.dumps(record) + "\n")
    return path


def test_the_confidence_policy_passes_fails_and_is_inconclusive(
    built_db: ClonedDatabase, tmp_path: Path
) -> None:
    # staging's schema-valid minimum is 0.95: clearly above, clearly below, and on it
    clear = records(tmp_path / "clear.jsonl", 400, 0.0, 1)
    below = records(tmp_path / "below.jsonl", 400, 0.2, 2)
    close = records(tmp_path / "close.jsonl", 400, 0.05, 3)
    outcomes = {}
    for path in (clear, below, close):
        report = tmp_path / f"{path.stem}.json"
        result = built_db.cli(
            "run",
            str(path),
            "--env",
            "staging",
            "--confidence",
            "0.95",
            "--report-json",
            str(report),
            "--junit",
            str(tmp_path / f"{path.stem}.xml"),
        )
        payload = json.loads(report.read_text())
        gate = next(g for g in payload["gates"] if g["gate"] == "schema_valid_rate_min")
        outcomes[path.stem] = (result.returncode, payload["status"], gate["status"])
        assert gate["lower_bound"] <= gate["observed"] <= gate["upper_bound"]
        assert payload["gate_policy"]["confidence"] == 0.95
        assert "gates judged on one-sided bounds at confidence 0.95" in result.stdout
    assert outcomes == {
        "clear": (0, "passed", "passed"),
        "below": (2, "failed", "failed"),
        "close": (4, "inconclusive", "inconclusive"),
    }
    junit = ElementTree.parse(tmp_path / "close.xml").getroot()
    assert junit.find(".//testcase[@name='schema_valid_rate_min']/skipped") is not None
    # the verdict is stored: check re-reports it with the same exit code, and the
    # gate view agrees (the dbt test that compares them passes)
    run_id = built_db.execute("select run_id from ai_eval_runs where status = 'inconclusive'")[0][0]
    assert built_db.cli("check", "--run-id", run_id).returncode == 4
    assert failing(dbt_test(built_db, "path:tests/evals ai_eval_gate_results")) == {}
    # the same file under the point policy is another run, judged on the estimate
    point = built_db.cli("run", str(close), "--env", "staging")
    assert point.returncode == 2, point.stdout  # 94.75% < 95%: a flake the policy avoids


def test_the_environment_seed_sets_the_policy(built_db: ClonedDatabase, tmp_path: Path) -> None:
    close = records(tmp_path / "close.jsonl", 400, 0.05, 3)
    built_db.execute(
        "update ai_eval_thresholds set confidence = 0.95 where environment = 'staging'"
    )
    assert built_db.cli("run", str(close), "--env", "staging").returncode == 4
    built_db.execute(
        "update ai_eval_thresholds set confidence = 0.9"
        " where environment = 'staging' and gate = 'fallback_rate_max'"
    )
    refused = built_db.cli("run", str(PASSING), "--env", "staging")
    assert refused.returncode == 3
    assert "more than one confidence" in refused.stderr


def test_a_paired_regression_against_the_baseline_fails_and_noise_passes(
    built_db: ClonedDatabase, tmp_path: Path
) -> None:
    base = records(tmp_path / "base.jsonl", 1000, 0.005, 1)
    noise = records(tmp_path / "noise.jsonl", 1000, 0.005, 2)
    worse = records(tmp_path / "worse.jsonl", 1000, 0.04, 3)
    assert built_db.cli("run", str(base), "--env", "staging").returncode == 0
    base_id = built_db.execute("select run_id from ai_eval_runs")[0][0]
    passed = built_db.cli("run", str(noise), "--env", "staging", "--baseline", base_id)
    assert passed.returncode == 0, passed.stdout
    report = tmp_path / "worse.json"
    markdown = tmp_path / "worse.md"
    junit = tmp_path / "worse.xml"
    failed = built_db.cli(
        "run",
        str(worse),
        "--env",
        "staging",
        "--baseline",
        base_id,
        "--report-json",
        str(report),
        "--report-md",
        str(markdown),
        "--junit",
        str(junit),
    )
    assert failed.returncode == 2, failed.stdout
    comparison = json.loads(report.read_text())["baseline"]
    assert comparison["baseline_run_id"] == base_id and comparison["regressed"] is True
    schema = next(m for m in comparison["metrics"] if m["metric"] == "schema_valid_rate")
    assert schema["method"] == "paired-z" and schema["pairs"] == 1000
    assert schema["regressed"] and schema["adjusted_p_value"] < 0.05
    assert schema["delta_pp"] > 1.0 and len(schema["flipped_case_ids"]) == 20
    safety = next(
        m for m in comparison["metrics"] if m["metric"] == "safety_html_tailwind_compliance"
    )
    assert safety["method"] == "paired-mcnemar" and not safety["regressed"]
    assert "| schema_valid_rate |" in markdown.read_text()
    root = ElementTree.parse(junit).getroot()
    assert root.find(".//testcase[@name='schema_valid_rate vs baseline']/failure") is not None
    worse_id = json.loads(report.read_text())["run_id"]
    assert built_db.cli("check", "--run-id", worse_id).returncode == 2
    assert failing(dbt_test(built_db, "path:tests/evals ai_eval_runs")) == {}


def test_unpaired_runs_compare_by_newcombe(built_db: ClonedDatabase, tmp_path: Path) -> None:
    base = records(tmp_path / "base.jsonl", 1000, 0.005, 1, cases=False)
    worse = records(tmp_path / "worse.jsonl", 1000, 0.05, 3, cases=False)
    assert built_db.cli("run", str(base), "--env", "staging").returncode == 0
    report = tmp_path / "worse.json"
    result = built_db.cli(
        "run",
        str(worse),
        "--env",
        "staging",
        "--baseline",
        "latest-passed",
        "--report-json",
        str(report),
    )
    assert result.returncode == 2, result.stdout
    schema = next(
        m
        for m in json.loads(report.read_text())["baseline"]["metrics"]
        if m["metric"] == "schema_valid_rate"
    )
    assert schema["method"] == "unpaired-newcombe" and schema["regressed"]


def test_a_baseline_must_be_a_real_run_of_the_environment(
    built_db: ClonedDatabase, tmp_path: Path
) -> None:
    assert built_db.cli("run", str(PASSING), "--env", "prod").returncode == 0
    prod_id = built_db.execute("select run_id from ai_eval_runs")[0][0]
    assert (
        built_db.cli(
            "simulate", "--scenario", "healthy", "--rows", "200", "--env", "staging"
        ).returncode
        == 0
    )
    synthetic_id = built_db.execute("select run_id from ai_eval_runs where is_synthetic")[0][0]
    for baseline, message in (
        (prod_id, f"run {prod_id!r} is of environment 'prod', not 'staging'"),
        (synthetic_id, "is synthetic"),
        ("no-such-run", "no evaluation run 'no-such-run'"),
        ("latest-passed", "no passed, non-synthetic run in 'staging'"),
    ):
        result = built_db.cli("run", str(PASSING), "--env", "staging", "--baseline", baseline)
        assert result.returncode == 3, result.stderr
        assert message in result.stderr
    assert built_db.execute(
        "select count(*) from ai_eval_runs where environment = 'staging' and not is_synthetic"
    ) == [(0,)]


def test_a_healthy_simulated_canary_is_never_rolled_back(built_db: ClonedDatabase) -> None:
    for step, seed in enumerate((11, 12, 13)):
        built_db.cli(
            "flags",
            "set",
            "custom",
            "--env",
            "prod",
            "--weight",
            str(25 + step),
            "--reason",
            "a new step, a new window",
        )
        assert (
            built_db.cli(
                "simulate", "--scenario", "healthy", "--rows", "6000", "--seed", str(seed)
            ).returncode
            == 0
        )
        result = built_db.cli("canary", "evaluate", "--env", "prod", "--include-synthetic")
        assert result.returncode in (0, 4), result.stdout  # go or inconclusive, never 2


def test_the_new_seed_columns_are_tested(built_db: ClonedDatabase) -> None:
    """Bad values in every new seed column, planted together: exactly their tests fail."""
    built_db.execute(
        "update ai_canary_guardrails set alpha = 0.7, go_alpha = 0, srm_alpha = 1"
        " where environment = 'staging';"
        " update ai_canary_rollback_triggers set go_margin_pp = 0 where environment = 'staging';"
        " update ai_eval_thresholds set confidence = 1.5 where environment = 'staging';"
        " update ai_canary_guardrails set max_cost_ratio = 0, require_cost = null"
        " where environment = 'staging';"
        " update ai_provider_prices set usd_per_million_input_tokens = -1"
        " where provider = 'custom';"
        " update ai_provider_prices set usd_per_million_output_tokens = 'infinity'"
        " where provider = 'openai';"
        " update ai_eval_gate_definitions set baseline_tolerance_pp = -1"
        " where gate = 'fallback_rate_max';"
        " insert into ai_eval_runs (run_id, run_type, environment, triggered_by, thresholds,"
        " strict, status, source_file, source_sha256, baseline_run_id)"
        " values ('orphan-baseline', 'offline', 'prod', 't', '{}', false, 'running', 'x',"
        " repeat('0', 64), 'no-such-run')"
    )
    selection = (
        "ai_canary_guardrails ai_canary_rollback_triggers ai_eval_thresholds"
        " ai_eval_gate_definitions ai_eval_runs ai_provider_prices"
    )
    assert failing(dbt_test(built_db, selection)) == {
        "canary_alpha_is_a_probability": 1,
        "canary_go_alpha_is_a_probability": 1,
        "canary_srm_alpha_is_a_probability": 1,
        "canary_go_margins_are_positive": 2,  # both staging triggers
        "eval_confidence_is_between_a_half_and_one": 12,  # each staging gate
        "canary_cost_ratio_ceilings_are_positive": 1,
        "not_null_ai_canary_guardrails_require_cost": 1,
        "input_token_prices_are_not_negative": 1,
        "output_token_prices_are_not_negative": 1,
        "eval_baseline_tolerances_are_not_negative": 1,
        "eval_baselines_are_runs": 1,
        "every_eval_run_has_samples": 1,
    }
