"""`ai-gate run` and `ai-gate check`: metrics against an oracle, exit codes, reports."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from pathlib import Path
from xml.etree import ElementTree

import pytest
from conftest import ClonedDatabase
from eval_oracle import RATE_FIELDS, expected_metrics

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "evals"
PASSING = REPO / "examples" / "evals" / "passing.jsonl"
FAILING = REPO / "examples" / "evals" / "failing.jsonl"
V1_METRICS = [*RATE_FIELDS, "p95_latency_ms"]
USAGE_METRICS = [
    "mean_input_tokens",
    "mean_output_tokens",
    "mean_cost_usd",
    "cost_per_pass_usd",
    "cost_ratio",
]
METRICS = [*V1_METRICS, "case_pass_k", *USAGE_METRICS]


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return path


def row_counts(db: ClonedDatabase) -> tuple[int, int]:
    runs = db.execute("select count(*) from ai_eval_runs")[0][0]
    samples = db.execute("select count(*) from ai_eval_samples")[0][0]
    return runs, samples


def varied_records(seed: int, count: int) -> list[dict]:
    """Nulls everywhere they are allowed, one field never present, odd latencies."""
    rng = random.Random(seed)
    records = []
    for index in range(count):
        record: dict[str, object] = {
            "sample_id": f"v{index}",
            "schema_valid": rng.random() < 0.9,
            "safety_html_tailwind_compliant": rng.random() < 0.97,
            "patch_apply_success": rng.choice([True, False, None]),
            "edit_after_generate": rng.choice([True, None, None]),
            "fallback_used": rng.choice([True, False, False, False, None]),
            # cases tried more than once by a provider (case_pass_k)
            "case_id": f"c{rng.randrange(max(1, count // 3))}",
            "selected_provider": rng.choice(["openai", "custom"]),
        }
        if rng.random() < 0.8:
            record["latency_ms"] = round(rng.lognormvariate(8, 0.7), 3)
        # usage: priced from tokens, recorded, of a model without a price, or absent
        usage = rng.random()
        if usage < 0.85:
            record["model"] = (
                "unpriced-model"
                if usage < 0.1
                else ("gpt-4o" if record["selected_provider"] == "openai" else "sitegen-custom-v1")
            )
            record["input_tokens"] = rng.randrange(200, 3000)
            record["output_tokens"] = int(rng.lognormvariate(7.5, 0.8))
            if usage > 0.75:
                record["cost_usd"] = round(rng.uniform(0.001, 0.09), 6)
        records.append(record)  # publish_conversion is absent from every record
    return records


@pytest.mark.parametrize("count", [1, 2, 7, 333])
def test_summary_matches_the_python_oracle(
    built_db: ClonedDatabase, tmp_path: Path, count: int
) -> None:
    path = write_jsonl(tmp_path / "varied.jsonl", varied_records(count, count))
    report_path = tmp_path / "report.json"
    result = built_db.cli("run", str(path), "--env", "staging", "--report-json", str(report_path))
    assert result.returncode in (0, 2, 4), result.stderr
    report = json.loads(report_path.read_text())
    expected = expected_metrics(path)
    view = built_db.execute(
        "select row_to_json(s) from ai_eval_run_summary_v1 s where run_id = %s",
        (report["run_id"],),
    )[0][0]
    assert view["sample_count"] == expected["sample_count"] == report["sample_count"]
    v2 = dict(
        built_db.execute(
            "select metric, json_build_array(value, n) from ai_eval_run_summary_v2"
            " where run_id = %s",
            (report["run_id"],),
        )
    )
    for metric in METRICS:
        v2_value, v2_count = v2[metric]
        assert v2_count == expected[f"{metric}_count"] == report["metric_counts"][metric], metric
        if expected[metric] is None:
            assert v2_value is None and report["metrics"][metric] is None, metric
        else:
            assert v2_value == pytest.approx(expected[metric], abs=0.001), metric
            assert report["metrics"][metric] == pytest.approx(expected[metric], abs=0.001)
    if count >= 7:  # more samples than (case, provider) pairs: some repeated
        assert expected["case_pass_k_count"] > 0
    for metric in V1_METRICS:
        assert view[f"{metric}_count"] == expected[f"{metric}_count"], metric
        if expected[metric] is None:
            assert view[metric] is None and report["metrics"][metric] is None, metric
        else:
            assert view[metric] == pytest.approx(expected[metric], abs=0.001), metric
            assert report["metrics"][metric] == pytest.approx(expected[metric], abs=0.001)
    intervals = dict(
        built_db.execute(
            "select metric, json_build_array(ci_low, ci_high) from ai_eval_run_summary_v2"
            " where run_id = %s",
            (report["run_id"],),
        )
    )
    for metric in ("mean_input_tokens", "mean_output_tokens", "mean_cost_usd"):
        want = expected[f"{metric}_ci"]
        if want[0] is None:
            assert intervals[metric] == [None, None], metric
        else:
            assert intervals[metric] == pytest.approx(list(want), rel=1e-9), metric
    for metric in RATE_FIELDS:
        low, high = expected[f"{metric}_ci"]
        if low is None:
            assert view[f"{metric}_ci_low"] is None
        else:
            assert view[f"{metric}_ci_low"] == pytest.approx(low, abs=0.001), metric
            assert view[f"{metric}_ci_high"] == pytest.approx(high, abs=0.001), metric
    assert report["metrics"]["publish_conversion_proxy"] is None  # never present
    assert set(report["metrics"]) == set(METRICS)


def test_p95_interpolates_between_samples(built_db: ClonedDatabase, tmp_path: Path) -> None:
    records = [
        {
            "sample_id": str(i),
            "schema_valid": True,
            "safety_html_tailwind_compliant": True,
            "latency_ms": latency,
        }
        for i, latency in enumerate([100, 200, 300, 400, 1000])
    ]
    path = write_jsonl(tmp_path / "p95.jsonl", records)
    report_path = tmp_path / "r.json"
    # five samples: every gate with data is inconclusive (fewer than prod's 100)
    assert built_db.cli("run", str(path), "--report-json", str(report_path)).returncode == 4
    # position 0.95 * 4 = 3.8: 400 + 0.8 * (1000 - 400)
    assert json.loads(report_path.read_text())["metrics"]["p95_latency_ms"] == pytest.approx(880)


def test_passing_example_exits_0_and_failing_example_exits_2(
    built_db: ClonedDatabase, tmp_path: Path
) -> None:
    passed = built_db.cli("run", str(PASSING), "--env", "prod")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert ": PASSED" in passed.stdout
    report = tmp_path / "failed.json"
    failed = built_db.cli("run", str(FAILING), "--env", "prod", "--report-json", str(report))
    assert failed.returncode == 2, failed.stdout + failed.stderr
    assert ": FAILED" in failed.stdout
    run_id = json.loads(report.read_text())["run_id"]
    failed_gates = built_db.execute(
        "select gate from ai_eval_gate_results where run_id = %s and status = 'failed'"
        " order by gate",
        (run_id,),
    )
    assert [row[0] for row in failed_gates] == [
        "fallback_rate_max",
        "p95_latency_ms_max",
        "schema_valid_rate_min",
    ]
    statuses = dict(built_db.execute("select source_file, status from ai_eval_runs"))
    assert statuses == {"passing.jsonl": "passed", "failing.jsonl": "failed"}


def records_without_routing_fields(count: int = 100) -> list[dict]:
    return [
        {
            "sample_id": f"old{i}",
            "schema_valid": True,
            "safety_html_tailwind_compliant": True,
            "patch_apply_success": True,
            "edit_after_generate": True,
            "publish_conversion": True,
        }
        for i in range(count)
    ]


def test_skipped_gates_pass_unless_strict(built_db: ClonedDatabase, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "pre-routing.jsonl", records_without_routing_fields())
    report = tmp_path / "r.json"
    lenient = built_db.cli("run", str(path), "--report-json", str(report))
    assert lenient.returncode == 0, lenient.stdout + lenient.stderr
    gates = {gate["gate"]: gate["status"] for gate in json.loads(report.read_text())["gates"]}
    assert gates["fallback_rate_max"] == gates["p95_latency_ms_max"] == "skipped"
    assert "SKIPPED" in lenient.stdout
    strict = built_db.cli("run", str(path), "--strict", "--junit", str(tmp_path / "j.xml"))
    assert strict.returncode == 2, strict.stdout + strict.stderr
    suite = ElementTree.parse(tmp_path / "j.xml").getroot()
    assert suite.get("failures") == "2"
    # Two runs: --strict is part of the run id, as it changes the verdict.
    assert row_counts(built_db)[0] == 2


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            b'{"sample_id": "a", "schema_valid": "true", "safety_html_tailwind_compliant": true}\n',
            "bad.jsonl:1: schema_valid: must be true or false, got string",
        ),
        (b"", "bad.jsonl: no records"),
        (
            b'{"sample_id": "a", "schema_valid": true, "safety_html_tailwind_compliant": true}\n'
            b'{"sample_id": "a", "schema_valid": true, "safety_html_tailwind_compliant": false}\n',
            "bad.jsonl:2: sample_id: duplicate 'a' (first on line 1)",
        ),
    ],
    ids=["wrong-type", "empty", "duplicate-sample-id"],
)
def test_rejected_input_exits_3_and_writes_nothing(
    built_db: ClonedDatabase, tmp_path: Path, content: bytes, expected: str
) -> None:
    assert built_db.cli("run", str(PASSING)).returncode == 0
    before = row_counts(built_db)
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    result = built_db.cli("run", str(path))
    assert result.returncode == 3, result.stdout + result.stderr
    assert expected in result.stderr.replace(str(path), "bad.jsonl")
    assert "nothing was written" in result.stderr
    assert row_counts(built_db) == before


def test_problems_are_capped_with_a_count_of_the_rest(
    built_db: ClonedDatabase, tmp_path: Path
) -> None:
    lines = [
        {"sample_id": str(i), "schema_valid": 1, "safety_html_tailwind_compliant": True}
        for i in range(120)
    ]
    path = write_jsonl(tmp_path / "many.jsonl", lines)
    result = built_db.cli("run", str(path))
    assert result.returncode == 3
    reported = [ln for ln in result.stderr.splitlines() if ": schema_valid: must be" in ln]
    assert len(reported) == 50
    assert "... and 70 more problems" in result.stderr
    assert row_counts(built_db) == (0, 0)


def test_the_same_file_again_rereports_and_writes_nothing(
    built_db: ClonedDatabase, tmp_path: Path
) -> None:
    report = tmp_path / "first.json"
    first = built_db.cli("run", str(FAILING), "--report-json", str(report))
    assert first.returncode == 2
    counts = row_counts(built_db)
    again = built_db.cli("run", str(FAILING))
    assert again.returncode == 2
    assert "already recorded" in again.stdout
    assert row_counts(built_db) == counts
    run_id = json.loads(report.read_text())["run_id"]
    other = built_db.cli("run", str(PASSING), "--run-id", run_id)
    assert other.returncode == 3
    assert "its file content is not this run's" in other.stderr
    assert "nothing was written" in other.stderr
    assert row_counts(built_db) == counts


def test_thresholds_file_overrides_and_is_snapshotted(
    built_db: ClonedDatabase, tmp_path: Path
) -> None:
    thresholds = tmp_path / "loose.yml"
    thresholds.write_text(
        "schema_valid_rate_min: 0.9\nfallback_rate_max: 0.2\np95_latency_ms_max: null\n"
    )
    report = tmp_path / "r.json"
    result = built_db.cli(
        "run", str(FAILING), "--thresholds", str(thresholds), "--report-json", str(report)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    payload = json.loads(report.read_text())
    assert "p95_latency_ms_max" not in {gate["gate"] for gate in payload["gates"]}
    # (case_pass_k_min and the usage gates are off in the seeds)
    assert payload["gates_switched_off"] == [
        "case_pass_k_min",
        "cost_per_pass_usd_max",
        "cost_ratio_max",
        "mean_cost_usd_max",
        "mean_output_tokens_max",
        "p95_latency_ms_max",
    ]
    snapshot = built_db.execute("select thresholds from ai_eval_runs")[0][0]
    assert snapshot["schema_valid_rate_min"] == 0.9
    assert snapshot["p95_latency_ms_max"] is None
    assert snapshot["safety_html_tailwind_compliance_min"] == 0.99  # from the seed


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "schema_valid_rate_min: 0.9\nschema_vaild_rate_min: 0.9\n",
            ":2: schema_vaild_rate_min: unknown gate",
        ),
        ("fallback_rate_max: lots\n", ":1: fallback_rate_max: must be a number or null"),
        ("fallback_rate_max: true\n", ":1: fallback_rate_max: must be a number or null"),
        ("fallback_rate_max: .nan\n", ":1: fallback_rate_max: must be a finite number >= 0"),
        ("fallback_rate_max: 5\n", ":1: fallback_rate_max: a rate threshold must be <= 1"),
        ("- 1\n", ":1: expected a mapping"),
        ("a: [\n", "not valid YAML"),
    ],
)
def test_bad_thresholds_files_are_rejected(
    built_db: ClonedDatabase, tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "t.yml"
    path.write_text(text)
    result = built_db.cli("run", str(PASSING), "--thresholds", str(path))
    assert result.returncode == 3, result.stderr
    assert expected in result.stderr
    assert row_counts(built_db) == (0, 0)


def test_unknown_environment_is_rejected(built_db: ClonedDatabase) -> None:
    result = built_db.cli("run", str(PASSING), "--env", "moon")
    assert result.returncode == 3
    assert "unknown environment 'moon' (known: prod, staging)" in result.stderr


def test_reports_agree_with_each_other_and_with_the_view(
    built_db: ClonedDatabase, tmp_path: Path
) -> None:
    paths = {name: tmp_path / name for name in ("r.json", "r.md", "r.xml")}
    result = built_db.cli(
        "run",
        str(FAILING),
        "--report-json",
        str(paths["r.json"]),
        "--report-md",
        str(paths["r.md"]),
        "--junit",
        str(paths["r.xml"]),
    )
    assert result.returncode == 2
    payload = json.loads(paths["r.json"].read_text())
    assert set(payload) >= {"run_id", "status", "environment", "sample_count", "metrics", "gates"}
    assert payload["status"] == "failed" and payload["environment"] == "prod"
    from_view = dict(
        built_db.execute(
            "select gate, status from ai_eval_gate_results where run_id = %s", (payload["run_id"],)
        )
    )
    assert {gate["gate"]: gate["status"] for gate in payload["gates"]} == from_view
    for gate in payload["gates"]:
        assert set(gate) == {
            "gate",
            "metric",
            "comparator",
            "threshold",
            "observed",
            "min_samples",
            "lower_bound",
            "upper_bound",
            "status",
        }
    suite = ElementTree.parse(paths["r.xml"]).getroot()
    junit = {
        case.get("name"): ("failed" if case.find("failure") is not None else "passed")
        for case in suite.iter("testcase")
        if case.get("classname") == "ai_gate.gates"
    }
    assert junit == from_view
    markdown = paths["r.md"].read_text()
    for gate, status in from_view.items():
        assert f"| `{gate}` |" in markdown
        assert any(f"`{gate}`" in ln and status in ln for ln in markdown.splitlines())


def test_check_reports_the_stored_verdict_without_dbt(
    built_db: ClonedDatabase, tmp_path: Path
) -> None:
    ran = built_db.cli("run", str(FAILING), "--report-json", str(tmp_path / "run.json"))
    assert ran.returncode == 2
    # No dbt project reachable: check must not need one.
    env = {**built_db.env, "AI_GATE_PROJECT_DIR": str(tmp_path / "no-project")}
    from conftest import run_cli

    checked = run_cli(["check", "--latest", "--report-json", str(tmp_path / "check.json")], env)
    assert checked.returncode == 2, checked.stderr
    assert json.loads((tmp_path / "check.json").read_text()) == json.loads(
        (tmp_path / "run.json").read_text()
    )
    run_id = json.loads((tmp_path / "run.json").read_text())["run_id"]
    assert run_cli(["check", "--run-id", run_id], env).returncode == 2
    assert built_db.cli("run", str(PASSING)).returncode == 0
    assert built_db.cli("check", "--latest", "--env", "prod").returncode == 0
    missing = built_db.cli("check", "--run-id", "eval-nope")
    assert missing.returncode == 3
    assert "no evaluation run 'eval-nope'" in missing.stderr
    assert built_db.cli("check", "--latest", "--env", "staging").returncode == 3


def test_a_run_that_fails_after_ingest_ends_aborted_and_can_be_retried(
    built_db: ClonedDatabase,
) -> None:
    built_db.execute("alter view ai_eval_run_judgement rename to ai_eval_run_judgement_away")
    broken = built_db.cli("run", str(PASSING))
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "marked aborted" in broken.stderr
    status, finished, metadata = built_db.execute(
        "select status, finished_at, metadata from ai_eval_runs"
    )[0]
    assert status == "aborted" and finished is not None and "error" in metadata
    built_db.execute("alter view ai_eval_run_judgement_away rename to ai_eval_run_judgement")
    assert built_db.cli("check", "--latest").returncode == 1  # aborted is not a verdict
    retried = built_db.cli("run", str(PASSING))
    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert built_db.execute("select status from ai_eval_runs") == [("passed",)]


def test_unreachable_database_exits_1(tmp_path: Path) -> None:
    from conftest import clean_environ, run_cli

    env = {**clean_environ(), "DATABASE_URL": "postgresql://x:pw@127.0.0.1:1/none"}
    for args in (["run", str(PASSING)], ["check", "--latest"]):
        result = run_cli(args, env)
        assert result.returncode == 1
        assert "cannot connect" in result.stderr


def test_report_path_in_a_missing_directory_is_a_usage_error(tmp_path: Path) -> None:
    from conftest import clean_environ, run_cli

    result = run_cli(
        ["run", str(PASSING), "--junit", str(tmp_path / "nope" / "j.xml")], clean_environ()
    )
    assert result.returncode == 64


def test_the_gate_view_summarises_a_run_once(built_db: ClonedDatabase, tmp_path: Path) -> None:
    """Judging reads ai_eval_run_judgement for one run (ai_eval_gate_results is its gate
    rows): its samples are aggregated once, not once per gate (the planner, estimating
    one threshold row, nested the summary inside the gate join; at a million samples
    that was 6.6 s, not 0.9 s)."""
    path = write_jsonl(tmp_path / "varied.jsonl", varied_records(3, 500))
    assert built_db.cli("run", str(path), "--env", "staging").returncode in (0, 2)
    run_id = built_db.execute("select run_id from ai_eval_runs")[0][0]

    def sample_scans(node: dict) -> list[dict]:
        found = [node] if node.get("Relation Name") == "ai_eval_samples" else []
        for child in node.get("Plans", []):
            found += sample_scans(child)
        return found

    for relation in ("ai_eval_run_judgement", "ai_eval_gate_results"):
        plan = built_db.execute(
            f"explain (analyze, format json) select * from {relation} where run_id = %s",
            (run_id,),
        )[0][0][0]["Plan"]
        scans = sample_scans(plan)
        # each scan of the samples runs at most once (once per gate was 7); the planner
        # may place a second scan on a side it never has to run (0 loops)
        loops = [scan["Actual Loops"] for scan in scans]
        assert 1 in loops and all(count <= 1 for count in loops), (relation, scans)
    counts = built_db.execute(
        "select count(gate), count(*) filter (where gate is null), count(distinct metric)"
        " from ai_eval_run_judgement where run_id = %s",
        (run_id,),
    )
    gates = built_db.execute(
        "select count(*) from ai_eval_gate_results where run_id = %s", (run_id,)
    )
    metrics = built_db.execute("select count(*) from ai_eval_metrics")
    # seven gates judged; every metric of the registry has a row, gated or not
    assert counts[0][0] == gates[0][0] == 7
    assert counts[0][2] == metrics[0][0]


def test_the_checklist_entry_point_is_ai_gate_run(built_db: ClonedDatabase) -> None:
    """scripts/evals/run_offline_eval.py, the path the checklist names: exit 0 on a pass,
    2 on a fail, the same report as `ai-gate run`."""
    script = [sys.executable, str(REPO / "scripts" / "evals" / "run_offline_eval.py")]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*script, *args], env=built_db.env, capture_output=True, text=True, check=False
        )

    passed = run(str(EXAMPLES / "passing.jsonl"))
    assert passed.returncode == 0, passed.stderr
    failed = run(str(EXAMPLES / "failing.jsonl"))
    assert failed.returncode == 2, failed.stderr
    assert built_db.cli("check", "--latest").stdout == failed.stdout
    usage = run("--help")
    assert usage.returncode == 0 and "--confidence" in usage.stdout


def test_the_markdown_report_ends_with_the_trend_of_the_last_runs(
    built_db: ClonedDatabase, tmp_path: Path
) -> None:
    report = tmp_path / "r.md"
    assert built_db.cli("run", str(PASSING), "--run-id", "first").returncode == 0
    result = built_db.cli("run", str(FAILING), "--run-id", "second", "--report-md", str(report))
    assert result.returncode == 2
    trend = report.read_text().split("Trend: ")[1].splitlines()
    assert trend[0] == "the last 2 runs of the environment (oldest first)"
    header, rows = trend[2], trend[4:]
    gates = [cell.strip(" `") for cell in header.strip("|").split("|")[1:]]
    assert gates == sorted(gates) and "schema_valid_rate_min" in gates
    assert [row.split("|")[1].strip() for row in rows] == ["`first`", "`second`"]
    statuses = dict(
        built_db.execute("select gate, status from ai_eval_gate_results where run_id = 'second'")
    )
    cells = dict(zip(gates, rows[1].strip("|").split("|")[1:], strict=True))
    for gate, status in statuses.items():
        assert cells[gate].strip().startswith("❌" if status == "failed" else "✅"), (gate, cells)


def test_one_run_opens_one_database_session(built_db: ClonedDatabase, tmp_path: Path) -> None:
    # pg_stat_database.sessions, read on a session of the test's own that has reported
    # itself; a backend reports its session at exit, so the count is read until it has
    # stopped changing.
    with built_db.database.connect(autocommit=True) as monitor:

        def sessions() -> int:
            monitor.execute("select pg_stat_clear_snapshot()")
            row = monitor.execute(
                "select sessions from pg_stat_database where datname = current_database()"
            ).fetchone()
            assert row is not None
            return int(row[0])

        monitor.execute("select pg_stat_force_next_flush()")
        monitor.execute("select 1")
        before = sessions()
        result = built_db.cli(
            "run", str(PASSING), "--env", "prod", "--report-md", str(tmp_path / "run.md")
        )
        assert result.returncode == 0, result.stderr
        readings = [sessions()]
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and (
            readings[-1] == before or len(readings) < 4 or len(set(readings[-4:])) > 1
        ):
            time.sleep(0.3)
            readings.append(sessions())
    assert readings[-1] - before == 1, readings


def costed_records(prefix: str, count: int, cost: float | None, seed: int) -> list[dict]:
    """Passing attempts; each with a recorded cost about `cost` (None: no usage)."""
    rng = random.Random(seed)
    records: list[dict] = []
    for index in range(count):
        record: dict[str, object] = {
            "sample_id": f"{prefix}{index}",
            "case_id": f"case-{index}",
            "schema_valid": True,
            "safety_html_tailwind_compliant": True,
            "selected_provider": "custom",
        }
        if cost is not None:
            record["input_tokens"] = rng.randrange(800, 1600)
            record["output_tokens"] = rng.randrange(1500, 4000)
            record["cost_usd"] = round(cost * rng.uniform(0.8, 1.2), 6)
        records.append(record)
    return records


def test_cost_gates_fail_closed_through_the_cli(built_db: ClonedDatabase, tmp_path: Path) -> None:
    """A run over mean_cost_usd_max fails (2); a run whose samples carry no usage under
    a cost gate is inconclusive (4; 2 with --strict), never skipped nor passed; with
    --baseline, a candidate at twice its baseline's cost fails cost_ratio_max."""
    off = "".join(
        f"{gate}: null\n"
        for gate in (
            "patch_apply_success_min",
            "edit_after_generate_rate_min",
            "publish_conversion_proxy_min",
            "fallback_rate_max",
            "p95_latency_ms_max",
        )
    )
    mean_gate = tmp_path / "mean.yml"
    mean_gate.write_text(off + "mean_cost_usd_max: 0.015\n")

    def run(name: str, records: list[dict], *options: str) -> tuple[int, dict]:
        path = write_jsonl(tmp_path / f"{name}.jsonl", records)
        report = tmp_path / f"{name}.json"
        result = built_db.cli(
            "run",
            str(path),
            "--env",
            "staging",
            "--run-id",
            name,
            "--report-json",
            str(report),
            *options,
        )
        return result.returncode, json.loads(report.read_text())

    def gate(report: dict, name: str) -> dict:
        return next(g for g in report["gates"] if g["gate"] == name)

    code, report = run("cheap", costed_records("a", 40, 0.01, 1), "--thresholds", str(mean_gate))
    assert (code, gate(report, "mean_cost_usd_max")["status"]) == (0, "passed")
    code, report = run("dear", costed_records("b", 40, 0.02, 2), "--thresholds", str(mean_gate))
    assert (code, gate(report, "mean_cost_usd_max")["status"]) == (2, "failed")
    assert gate(report, "mean_cost_usd_max")["observed"] == pytest.approx(0.02, rel=0.1)

    unreported = costed_records("c", 40, None, 3)
    code, report = run("no-usage", unreported, "--thresholds", str(mean_gate))
    assert (code, gate(report, "mean_cost_usd_max")["status"]) == (4, "inconclusive")
    code, _ = run("no-usage-strict", unreported, "--thresholds", str(mean_gate), "--strict")
    assert code == 2

    ratio_gate = tmp_path / "ratio.yml"
    ratio_gate.write_text(off + "cost_ratio_max: 1.2\n")
    code, report = run(
        "double",
        costed_records("d", 40, 0.02, 4),
        "--thresholds",
        str(ratio_gate),
        "--baseline",
        "cheap",
    )
    ratio = gate(report, "cost_ratio_max")
    assert (code, ratio["status"]) == (2, "failed")
    assert ratio["observed"] == pytest.approx(2.0, rel=0.1)
    # the same candidate without a baseline: the ratio gate is not applicable
    code, report = run("alone", costed_records("e", 40, 0.02, 4), "--thresholds", str(ratio_gate))
    assert (code, gate(report, "cost_ratio_max")["status"]) == (0, "skipped")
