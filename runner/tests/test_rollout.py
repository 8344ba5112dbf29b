"""Canary analysis, rollback, rollout steps, drills and the daily command."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from conftest import ClonedDatabase, clean_environ, run_cli, run_cli_process

REPO = Path(__file__).resolve().parents[2]
PASSING = REPO / "examples" / "evals" / "passing.jsonl"
FAILING = REPO / "examples" / "evals" / "failing.jsonl"


@pytest.fixture
def reads_of() -> Iterator[Callable[[str], list[str]]]:
    """The statements this process sends that read a relation, recorded as they go to
    the real server (psycopg's Cursor.execute, wrapped; nothing else changes):
    `reads = reads_of("ai_provider_configs")`, then a command, then `len(reads)`."""
    original = psycopg.Cursor.execute
    watched: dict[str, list[str]] = {}

    def recording(self, query, params=None, **kwargs):  # type: ignore[no-untyped-def]
        text = query if isinstance(query, str) else query.as_string(self)
        for relation, seen in watched.items():
            if f'"{relation}"' in text or f" {relation}" in text:
                seen.append(text)
        return original(self, query, params, **kwargs)

    psycopg.Cursor.execute = recording  # type: ignore[method-assign]
    try:
        yield lambda relation: watched.setdefault(relation, [])
    finally:
        psycopg.Cursor.execute = original  # type: ignore[method-assign]


def evaluate(db: ClonedDatabase, *args: str) -> tuple[int, dict]:
    result = db.cli("canary", "evaluate", "--env", "prod", "--json", *args)
    assert result.returncode in (0, 2, 4), result.stdout + result.stderr
    return result.returncode, json.loads(result.stdout)


def flags(db: ClonedDatabase, env: str) -> dict[str, dict]:
    result = db.cli("flags", "--env", env, "--json")
    assert result.returncode == 0, result.stderr
    return {row["provider"]: row for row in json.loads(result.stdout)}


def at_step(db: ClonedDatabase, percent: int) -> None:
    """Weights for a rollout step: custom `percent` of prod (openai keeps the rest)."""
    for provider, weight in (("custom", percent), ("openai", 100 - percent)):
        result = db.cli(
            "flags",
            "set",
            provider,
            "--env",
            "prod",
            "--weight",
            str(weight),
            "--reason",
            "test",
            "--confirm-traffic",
        )
        assert result.returncode == 0, result.stderr


def simulate(
    db: ClonedDatabase, scenario: str, rows: int = 20_000, seed: int = 1, real: bool = False
) -> None:
    """Simulated traffic; `real` turns it into what production would have written
    (product telemetry rows and a non-synthetic eval run), so that decisions on it may
    move traffic."""
    result = db.cli("simulate", "--scenario", scenario, "--rows", str(rows), "--seed", str(seed))
    assert result.returncode == 0, result.stdout + result.stderr
    if not real:
        return
    columns = (
        "created_at, request_id, requested_provider, selected_provider, route_strategy,"
        " fallback_provider, fallback_used, latency_ms, prompt_template_version, model,"
        " input_tokens, output_tokens, cost_usd"
    )
    db.execute(
        f"insert into ai_training_examples ({columns}) select {columns}"
        " from ai_synthetic_generations; delete from ai_synthetic_generations"
    )
    lines = db.execute(
        # cost_source is derived at ingest: the cost goes back as the one recorded
        "select jsonb_strip_nulls(to_jsonb(samples) - 'run_id' - 'line_number'"
        " - 'cost_source')::text"
        " from ai_eval_samples as samples where run_id like 'sim-%' order by line_number"
    )
    path = Path(db.env.get("TMPDIR", "/tmp")) / f"{db.name}-{scenario}.jsonl"
    path.write_text("".join(line + "\n" for (line,) in lines))
    try:
        ingested = db.cli("run", str(path), "--run-type", "canary", "--env", "prod")
    finally:
        path.unlink()
    assert ingested.returncode in (0, 2), ingested.stdout + ingested.stderr
    db.execute("alter table ai_eval_samples disable trigger ai_eval_samples_append_only")
    db.execute("delete from ai_eval_samples where run_id like 'sim-%'")
    db.execute("alter table ai_eval_samples enable trigger ai_eval_samples_append_only")


@pytest.mark.parametrize(
    ("scenario", "decision", "exit_code", "breached"),
    [
        ("healthy", "go", 0, set()),
        ("latency-regression", "hold", 2, {"max_p50_latency_ratio"}),
        ("safety-regression", "rollback", 2, {"safety_regression"}),
        ("fallback-storm", "hold", 2, {"max_fallback_rate"}),
        ("low-traffic", "inconclusive", 4, set()),
        ("sample-ratio-mismatch", "hold", 2, {"sample_ratio"}),
    ],
)
def test_each_scenario_leads_to_its_decision(
    built_db: ClonedDatabase, scenario: str, decision: str, exit_code: int, breached: set[str]
) -> None:
    # At the seeded 1%: a healthy canary goes on about 400 canary rows of 40,000; an hour
    # of 3,000 generations is too little. The others at the 25% step.
    rows = {"healthy": 40_000, "low-traffic": 3000}.get(scenario, 20_000)
    if scenario not in ("healthy", "low-traffic"):
        at_step(built_db, 25)
    simulate(built_db, scenario, rows=rows)
    code, payload = evaluate(built_db, "--include-synthetic")
    assert (payload["decision"], code) == (decision, exit_code)
    assert {r["name"] for r in payload["rules"] if r["status"] == "breached"} == breached
    if scenario == "low-traffic":
        assert any(
            r["kind"] == "minimum" and r["status"] == "insufficient" for r in payload["rules"]
        )
    # Stored with its inputs, append-only.
    stored = built_db.execute(
        "select decision, synthetic_rows, production_rows, jsonb_array_length(rules)"
        " from ai_canary_decisions"
    )
    assert stored == [(decision, rows, 0, len(payload["rules"]))]
    with pytest.raises(psycopg.errors.RestrictViolation):
        built_db.execute("delete from ai_canary_decisions")


def test_every_rule_shows_both_arms_and_its_threshold(built_db: ClonedDatabase) -> None:
    at_step(built_db, 25)
    simulate(built_db, "healthy")
    result = built_db.cli("canary", "evaluate", "--env", "prod", "--include-synthetic")
    assert result.returncode == 0
    for text in (
        "max_fallback_rate",
        "max_p95_latency_ms",
        "min_schema_valid_rate",
        "safety_regression",
        "schema_valid_drop",
        "sample_ratio",
        "evidence",
        "go bound",
        "look 1",
        "alpha 0.01 over the rollout",
        "p50 / p90 / p95 / p99",
        "synthetic",
    ):
        assert text in result.stdout


def test_synthetic_data_never_enters_the_product_table(built_db: ClonedDatabase) -> None:
    simulate(built_db, "healthy", rows=500)
    assert built_db.execute("select count(*) from ai_training_examples") == [(0,)]
    assert built_db.execute("select count(*) from ai_routing_telemetry where is_synthetic") == [
        (500,)
    ]
    assert built_db.execute("select is_synthetic, run_type from ai_eval_runs") == [(True, "canary")]


def test_apply_records_the_rollback_in_the_change_log(
    built_db: ClonedDatabase, reads_of: Callable[[str], list[str]]
) -> None:
    """The decision reads the routing configuration once, in its snapshot; the rollback
    reads it once more, under the routing lock (a change may have come between); the
    table printed after it is what the product now reads."""
    at_step(built_db, 25)
    simulate(built_db, "safety-regression", real=True)
    reads = reads_of("ai_provider_configs")
    result = built_db.cli("canary", "evaluate", "--env", "prod", "--apply")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "rollback recorded" in result.stdout
    assert len(reads) == 2, reads
    shown = built_db.cli("flags", "--env", "prod")
    assert result.stdout.endswith(shown.stdout), (result.stdout, shown.stdout)
    prod = flags(built_db, "prod")
    assert prod["custom"]["enabled"] is False
    assert prod["openai"]["enabled"] and prod["openai"]["is_default"]
    decision_id = built_db.execute("select max(decision_id) from ai_canary_decisions")[0][0]
    reason = built_db.execute(
        "select reason, changed_via from ai_provider_config_changes"
        " where changed_via not like 'ai-gate flags set%'"
    )
    assert reason == [
        (
            f"canary rollback: decision #{decision_id} (safety_regression)",
            "ai-gate canary evaluate --apply",
        )
    ]


def test_apply_moves_the_default_off_a_canary_that_is_default(
    built_db: ClonedDatabase,
) -> None:
    assert (
        built_db.cli(
            "flags",
            "set",
            "custom",
            "--env",
            "prod",
            "--default",
            "--reason",
            "custom promoted",
            "--confirm-traffic",
        ).returncode
        == 0
    )
    at_step(built_db, 25)
    simulate(built_db, "safety-regression", real=True)
    assert built_db.cli("canary", "evaluate", "--env", "prod", "--apply").returncode == 2
    prod = flags(built_db, "prod")
    assert prod["custom"]["enabled"] is False and prod["custom"]["is_default"] is False
    assert prod["openai"]["is_default"] is True


def test_apply_on_go_changes_nothing(built_db: ClonedDatabase) -> None:
    at_step(built_db, 25)
    simulate(built_db, "healthy", real=True)
    result = built_db.cli("canary", "evaluate", "--env", "prod", "--apply")
    assert result.returncode == 0
    assert "nothing to apply" in result.stdout
    assert built_db.execute(
        "select count(*) from ai_provider_config_changes"
        " where changed_via not like 'ai-gate flags set%'"
    ) == [(0,)]


def test_step_follows_the_plan_only_after_go(
    built_db: ClonedDatabase, reads_of: Callable[[str], list[str]]
) -> None:
    """A step, a flag change and a decision each read the routing configuration once
    (the step and the change under the routing lock, the decision in its snapshot),
    and the table printed after a change is what the product now reads."""
    refused = built_db.cli("canary", "step", "--env", "prod")
    assert refused.returncode == 3 and "not `go`" in refused.stderr
    reads = reads_of("ai_provider_configs")
    at_step(built_db, 4)  # two flag changes
    assert len(reads) == 2, reads
    simulate(built_db, "healthy", rows=60_000, real=True)
    reads.clear()
    code, payload = evaluate(built_db)
    assert code == 0, [r for r in payload["rules"] if r["status"] != "ok"]
    assert len(reads) == 1, reads
    reads.clear()
    stepped = built_db.cli("canary", "step", "--env", "prod")
    assert stepped.returncode == 0, stepped.stdout + stepped.stderr
    assert len(reads) == 1, reads
    assert "4.0% -> 5%" in stepped.stdout
    shown = built_db.cli("flags", "--env", "prod")
    assert stepped.stdout.endswith(shown.stdout), (stepped.stdout, shown.stdout)
    prod = flags(built_db, "prod")
    assert (prod["custom"]["weight"], prod["openai"]["weight"]) == (5, 95)
    again = built_db.cli("canary", "step", "--env", "prod")
    assert again.returncode == 3 and "evaluate again" in again.stderr
    # A new step starts a new sample-ratio window: no go before its own traffic.
    assert evaluate(built_db)[0] == 4
    simulate(built_db, "healthy", rows=40_000, seed=2, real=True)
    assert evaluate(built_db)[0] == 0
    assert "5.0% -> 25%" in built_db.cli("canary", "step", "--env", "prod").stdout


def test_step_is_refused_after_hold(built_db: ClonedDatabase) -> None:
    at_step(built_db, 25)
    simulate(built_db, "fallback-storm", real=True)
    assert evaluate(built_db)[0] == 2
    result = built_db.cli("canary", "step", "--env", "prod")
    assert result.returncode == 3
    assert built_db.execute(
        "select count(*) from ai_provider_config_changes"
        " where changed_via not like 'ai-gate flags set%'"
    ) == [(0,)]


@pytest.mark.parametrize("custom_is_default", [False, True])
def test_drill_restores_exactly_the_previous_flags(
    built_db: ClonedDatabase, custom_is_default: bool
) -> None:
    if custom_is_default:
        assert (
            built_db.cli(
                "flags",
                "set",
                "custom",
                "--env",
                "staging",
                "--default",
                "--weight",
                "70",
                "--reason",
                "setup",
                "--confirm-traffic",
            ).returncode
            == 0
        )
    before = {
        p: {k: row[k] for k in ("enabled", "is_default", "weight", "timeout_ms", "max_retries")}
        for p, row in flags(built_db, "staging").items()
    }
    result = built_db.cli("drill", "rollback", "--env", "staging", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    evidence = json.loads(result.stdout)
    assert evidence["succeeded"] is True
    assert evidence["before_state"] == evidence["after_state"] == before
    assert evidence["during_state"]["custom"]["enabled"] is False
    assert [step["step"] for step in evidence["steps"]] == [
        "record flags",
        "apply rollback",
        "verify rollback",
        "restore flags",
        "verify restore",
    ]
    after = {
        p: {k: row[k] for k in before["custom"]} for p, row in flags(built_db, "staging").items()
    }
    assert after == before
    assert flags(built_db, "prod")["custom"]["last_change_id"] is None  # prod untouched
    stored = built_db.execute("select succeeded, error from ai_rollback_drills")
    assert stored == [(True, None)]


def test_a_drill_of_an_unknown_provider_is_refused_before_it_starts(
    built_db: ClonedDatabase,
) -> None:
    # The arms are checked once, before the drill: nothing changes, no drill is stored.
    # (A drill that fails once started exits 1 and keeps its evidence:
    # test_real_users.py::test_a_drill_never_restores_over_an_incident_rollback.)
    result = built_db.cli("drill", "rollback", "--env", "staging", "--canary", "nope")
    assert result.returncode == 3
    assert result.stderr.splitlines()[-1] == (
        "ai-gate: unknown provider 'nope' in environment 'staging' (its providers: custom, openai)"
    )
    assert built_db.execute("select count(*) from ai_rollback_drills") == [(0,)]


def daily_env(db: ClonedDatabase) -> dict[str, str]:
    return db.env


def test_two_concurrent_daily_runs_ingest_once(built_db: ClonedDatabase, tmp_path: Path) -> None:
    """Two daily runs started while a third holds the lock both wait, then run one
    after the other: the files are ingested once. (Built by the fixture: --no-build
    keeps the race to the lock and the ingest, which this is about.)"""
    records = tmp_path / "records"
    records.mkdir()
    (records / "a.jsonl").write_bytes(PASSING.read_bytes())
    (records / "b.jsonl").write_bytes(FAILING.read_bytes())
    command = [
        sys.executable,
        "-c",
        "from ai_gate.cli import entrypoint; entrypoint()",
        "daily",
        "--env",
        "prod",
        "--records",
        str(records),
        "--no-build",
    ]
    with built_db.database.connect(autocommit=True) as holder:
        holder.execute("select pg_advisory_lock(%s, %s)", (0x61696774, 0x646C7921))
        processes = [
            subprocess.Popen(
                command, env=built_db.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            for _ in range(2)
        ]
        seen = []
        for process in processes:  # each says it waits before the lock is let go
            assert process.stderr is not None
            lines = iter(process.stderr.readline, "")
            seen.append(next((line for line in lines if "waiting" in line), ""))
        holder.execute("select pg_advisory_unlock(%s, %s)", (0x61696774, 0x646C7921))
    outputs = [process.communicate(timeout=600) for process in processes]
    codes = [process.returncode for process in processes]
    assert codes == [2, 2], outputs  # b.jsonl fails its gates in both
    assert all("another daily run is in progress; waiting for it" in line for line in seen)
    assert built_db.execute("select count(*) from ai_eval_runs") == [(2,)]
    assert built_db.execute("select count(*) from ai_eval_samples") == [(400,)]
    assert sum("already recorded" in out for out, _ in outputs) == 1


def test_daily_without_its_build_needs_a_built_database(
    empty_db: ClonedDatabase, tmp_path: Path
) -> None:
    """--no-build leaves the build to the team's own dbt job: on a database nobody
    built, daily says so and writes its outcome (exit 1), touching nothing."""
    reports = tmp_path / "reports"
    result = empty_db.cli(
        "daily", "--records", str(PASSING), "--report-dir", str(reports), "--no-build"
    )
    assert result.returncode == 1
    said = (
        " is not built, and --no-build leaves the build to your dbt job: run it (or "
        "`ai-gate build`) first"
    )
    last = result.stderr.splitlines()[-1]
    assert last.startswith("ai-gate: postgres@") and f"/{empty_db.name} " in last
    assert last.endswith(said)
    assert json.loads((reports / "daily-outcome.json").read_text())["error"] == last[9:]
    assert empty_db.execute(
        "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = 'public'"
    ) == [(0,)]


def test_daily_gives_up_when_the_lock_is_held(built_db: ClonedDatabase) -> None:
    with built_db.database.connect(autocommit=True) as holder:
        holder.execute("select pg_advisory_lock(%s, %s)", (0x61696774, 0x646C7921))
        result = built_db.cli("daily", "--records", str(PASSING), "--lock-timeout", "1")
    assert result.returncode == 1
    assert "holds the daily lock" in result.stderr
    assert built_db.execute("select count(*) from ai_eval_runs") == [(0,)]


def test_daily_writes_reports_and_exits_with_the_gate(
    built_db: ClonedDatabase, tmp_path: Path, reads_of: Callable[[str], list[str]]
) -> None:
    """Daily reads the routing configuration once (the canary decision's snapshot,
    which the HTML report is drawn from too) and the thresholds once, however many
    files it judges."""
    records = tmp_path / "records"
    records.mkdir()
    (records / "passing.jsonl").write_bytes(PASSING.read_bytes())
    (records / "again.jsonl").write_bytes(PASSING.read_bytes().replace(b'"s7-', b'"t7-'))
    configs, thresholds = reads_of("ai_provider_configs"), reads_of("ai_eval_thresholds")
    result = built_db.cli("daily", "--records", str(records), "--report-dir", str(tmp_path))
    # The gates pass; custom's 1% of prod is a rollout with no canary evidence yet.
    assert result.returncode == 4, result.stdout + result.stderr
    assert len(configs) == 1, configs
    # the environment's thresholds and its confidence: two statements, once
    assert len(thresholds) == 2, thresholds
    outcome = json.loads((tmp_path / "daily-outcome.json").read_text())
    assert [file["outcome"] for file in outcome["files"]] == ["passed", "passed"]
    assert outcome["canary"]["decision"] == "inconclusive"
    assert len(list(tmp_path.glob("passing.*.json"))) == 1
    assert len(list(tmp_path.glob("passing.*.xml"))) == 1
    assert "canary decision" in result.stdout
    page = (tmp_path / "report.html").read_text()
    from test_report import SECTIONS  # every section of the HTML report, flakiness too

    assert [section for section in SECTIONS if f'id="{section}"' in page] == list(SECTIONS)
    assert outcome["files"][0]["run_id"] in page


def test_daily_refuses_the_transaction_pooler() -> None:
    env = {
        **clean_environ(),
        "DATABASE_URL": "postgresql://postgres:pw@db.example.invalid:6543/postgres",
    }
    result = run_cli(["daily", "--records", str(PASSING)], env)
    assert result.returncode == 1
    assert "transaction pooler" in result.stderr


def test_concurrent_drill_and_flag_change_stay_consistent(built_db: ClonedDatabase) -> None:
    # A flag change racing a drill is serialized by the change-log lock: the invariants
    # hold at the end whatever the order.
    barrier = threading.Barrier(2)
    results: list[int] = []

    def run(args: list[str]) -> None:
        barrier.wait()
        # threads need processes: run_cli swaps this process's environment
        results.append(run_cli_process(args, built_db.env).returncode)

    threads = [
        threading.Thread(target=run, args=(["drill", "rollback", "--env", "staging"],)),
        threading.Thread(
            target=run,
            args=(
                [
                    "flags",
                    "set",
                    "openai",
                    "--env",
                    "staging",
                    "--weight",
                    "60",
                    "--reason",
                    "race",
                ],
            ),
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    staging = flags(built_db, "staging")
    assert sum(1 for row in staging.values() if row["enabled"] and row["is_default"]) == 1


def test_three_providers_the_canary_steps_through_the_whole_plan(
    built_db: ClonedDatabase,
) -> None:
    """With a third enabled provider the canary gets exactly each step's share, and the
    other two keep their weights relative to each other (before, the step wrote the
    target and 100 - target, and the canary never reached the plan's share)."""
    built_db.execute(
        "insert into ai_provider_config_defaults (provider, environment, enabled, is_default,"
        " weight, timeout_ms, max_retries, model, prompt_template_version, metadata)"
        " values ('anthropic', 'prod', true, false, 33, 30000, 2, 'claude', 'sitegen-v3',"
        ' \'{"role": "primary"}\')'
    )
    built_db.execute(
        "update ai_provider_config_defaults set weight = 66"
        " where provider = 'openai' and environment = 'prod'"
    )
    seen = []
    for expected in (5, 25, 50, 100):
        # a go decision, as `canary evaluate` stores it
        built_db.execute(
            "insert into ai_canary_decisions (decided_by, environment, canary, baseline,"
            " decision, rules, arms, guardrails, rollback_triggers, is_synthetic,"
            " synthetic_rows, production_rows, synthetic_eval_samples)"
            " values ('test', 'prod', 'custom', 'openai', 'go', '[]', '{}', '{}', '[]', false,"
            " 0, 0, 0)"
        )
        stepped = built_db.cli("canary", "step", "--env", "prod")
        assert stepped.returncode == 0, stepped.stdout + stepped.stderr
        prod = flags(built_db, "prod")
        weights = {name: prod[name]["weight"] for name in ("custom", "openai", "anthropic")}
        seen.append(weights)
        assert weights["custom"] / sum(weights.values()) == pytest.approx(expected / 100)
        if expected < 100:
            assert weights["openai"] == 2 * weights["anthropic"]
    # the smallest integers where 100 in all would not keep 2:1
    assert seen == [
        {"custom": 3, "openai": 38, "anthropic": 19},
        {"custom": 25, "openai": 50, "anthropic": 25},
        {"custom": 3, "openai": 2, "anthropic": 1},
        {"custom": 100, "openai": 0, "anthropic": 0},
    ]
