"""Verdicts you can trust: each numbered case of the issue, through the CLI, on a real
PostgreSQL. Cases that need a running process interrupted or racing start real
`ai-gate` processes and watch them from the database."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from conftest import ClonedDatabase, clean_environ, run_cli

REPO = Path(__file__).resolve().parents[2]
PASSING = REPO / "examples" / "evals" / "passing.jsonl"
FAILING = REPO / "examples" / "evals" / "failing.jsonl"
DEEPEVAL_RUN = REPO / "examples" / "deepeval" / "test_run.json"
INSPECT_LOG = REPO / "examples" / "inspect" / "site_generation.json"
CLI = [sys.executable, "-m", "ai_gate"]


def record(index: int, **fields: object) -> dict[str, object]:
    return {
        "sample_id": f"s{index}",
        "schema_valid": True,
        "safety_html_tailwind_compliant": True,
        "fallback_used": False,
        "latency_ms": 1000 + index % 500,
        **fields,
    }


def write_records(path: Path, count: int, **fields: object) -> Path:
    with path.open("w") as handle:
        for index in range(count):
            handle.write(json.dumps(record(index, **fields)) + "\n")
    return path


def start_cli(db: ClonedDatabase, *args: str, **kwargs: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CLI, *args],
        env=db.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,  # type: ignore[call-overload]
    )


def wait_for_activity(db: ClonedDatabase, condition: str, timeout: float = 60) -> int:
    """The pid of an ai-gate backend of this database matching `condition`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = db.execute(
            "select pid from pg_stat_activity where datname = current_database()"
            f" and application_name = 'ai-gate' and pid <> pg_backend_pid() and ({condition})"
        )
        if rows:
            return rows[0][0]
        time.sleep(0.01)
    raise AssertionError(f"no ai-gate backend with {condition} within {timeout}s")


def assert_clean_failure(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr
    assert stderr.strip(), "an error needs a message"


# 1 -------------------------------------------------------------------------------------


def test_synthetic_telemetry_never_moves_real_traffic(built_db: ClonedDatabase) -> None:
    assert (
        built_db.cli(
            "simulate", "--scenario", "healthy", "--rows", "5000", "--seed", "3", "--env", "prod"
        ).returncode
        == 0
    )
    evaluated = built_db.cli("canary", "evaluate", "--env", "prod")
    assert evaluated.returncode == 4, evaluated.stdout + evaluated.stderr
    assert "INCONCLUSIVE" in evaluated.stdout
    assert "0 production and 0 synthetic telemetry rows used" in evaluated.stdout
    assert "5,000 synthetic telemetry rows in the window were left out" in evaluated.stdout
    stepped = built_db.cli("canary", "step", "--env", "prod")
    assert stepped.returncode == 3, stepped.stderr
    assert "is 'inconclusive'" in stepped.stderr

    # At the 25% step a simulated hour is enough to decide: with --include-synthetic
    # the decision is `go`, stored marked synthetic, and still moves nothing.
    assert (
        built_db.cli(
            "flags",
            "set",
            "custom",
            "--env",
            "prod",
            "--weight",
            "25",
            "--reason",
            "dry run",
            "--confirm-traffic",
        ).returncode
        == 0
    )
    assert (
        built_db.cli(
            "simulate", "--scenario", "healthy", "--rows", "20000", "--seed", "3", "--env", "prod"
        ).returncode
        == 0
    )
    dry_run = built_db.cli("canary", "evaluate", "--env", "prod", "--include-synthetic")
    assert dry_run.returncode == 0, dry_run.stdout
    assert "GO [SYNTHETIC]" in dry_run.stdout
    assert "this decision cannot step or roll back the canary" in dry_run.stdout
    assert built_db.execute(
        "select is_synthetic, synthetic_rows > 0 from ai_canary_decisions"
        " order by decision_id desc limit 1"
    ) == [(True, True)]
    stepped = built_db.cli("canary", "step", "--env", "prod")
    assert stepped.returncode == 3
    assert "used synthetic rows" in stepped.stderr
    both = built_db.cli("canary", "evaluate", "--env", "prod", "--include-synthetic", "--apply")
    assert both.returncode == 64, both.stderr
    assert built_db.execute(
        "select count(*) from ai_provider_config_changes"
        " where changed_via not like 'ai-gate flags set%'"
    ) == [(0,)]
    assert built_db.cli("flags", "--env", "prod", "--json").stdout.count('"weight": 25') == 1


# 2 -------------------------------------------------------------------------------------


def runbook_latest_run_sql() -> str:
    text = (REPO / "docs" / "runbook" / "on-call.md").read_text()
    block = text.split("```sql\n", 1)[1].split("```", 1)[0]
    assert "not is_synthetic" in block
    return block


def test_a_simulated_run_is_never_the_latest_verdict(built_db: ClonedDatabase) -> None:
    failing = built_db.cli("run", str(FAILING), "--env", "prod")
    assert failing.returncode == 2
    run_id = built_db.execute("select run_id from ai_eval_runs")[0][0]
    assert (
        built_db.cli(
            "simulate", "--scenario", "healthy", "--rows", "500", "--seed", "3", "--env", "prod"
        ).returncode
        == 0
    )
    assert built_db.execute("select count(*) from ai_eval_runs where is_synthetic") == [(1,)]
    latest = built_db.cli("check", "--latest", "--env", "prod")
    assert latest.returncode == 2, latest.stdout
    assert run_id in latest.stdout
    failed_gates = built_db.execute(runbook_latest_run_sql())
    assert failed_gates, "the runbook's SQL lists the real run's failed gates"
    assert {row[0] for row in failed_gates} == {
        row[0]
        for row in built_db.execute(
            "select gate from ai_eval_gate_results where run_id = %s and status = 'failed'",
            (run_id,),
        )
    }


# 3 -------------------------------------------------------------------------------------


def test_canary_quality_comes_only_from_its_environment(
    built_db: ClonedDatabase, tmp_path: Path
) -> None:
    prod_records = tmp_path / "prod.jsonl"
    with prod_records.open("w") as handle:
        for index in range(100):
            provider = "custom" if index % 2 else "openai"
            created_at = datetime.now(UTC).isoformat()
            handle.write(
                json.dumps(record(index, selected_provider=provider, created_at=created_at)) + "\n"
            )
    assert (
        built_db.cli("run", str(prod_records), "--env", "prod", "--run-type", "canary").returncode
        == 0
    )
    prod_run = built_db.execute("select run_id from ai_eval_runs")[0][0]
    staging = built_db.cli("canary", "evaluate", "--env", "staging", "--since", "7d", "--json")
    assert staging.returncode == 4, staging.stderr
    arms = json.loads(staging.stdout)["arms"]
    assert {arms[p]["eval_samples"] for p in ("custom", "openai")} == {0}
    prod = built_db.cli("canary", "evaluate", "--env", "prod", "--since", "7d", "--json")
    assert {json.loads(prod.stdout)["arms"][p]["eval_samples"] for p in ("custom", "openai")} == {
        50
    }
    foreign = built_db.cli("canary", "evaluate", "--env", "staging", "--run-id", prod_run)
    assert foreign.returncode == 3
    assert "is of environment 'prod', not 'staging'" in foreign.stderr


# 4 -------------------------------------------------------------------------------------


def test_daily_shows_a_failed_gate_behind_a_rejected_file(
    built_db: ClonedDatabase, tmp_path: Path
) -> None:
    records = tmp_path / "records"
    records.mkdir()
    (records / "a-failing.jsonl").write_bytes(FAILING.read_bytes())
    (records / "b-malformed.jsonl").write_text('{"sample_id": "x"}\n')
    # other tools' results beside the records: each file read as its content says
    # (not promptfoo's example: its providers are named custom and openai, and its
    # samples would be the quality of prod's canary arms)
    (records / "c-deepeval.json").write_bytes(DEEPEVAL_RUN.read_bytes())
    (records / "d-inspect.json").write_bytes(INSPECT_LOG.read_bytes())
    report_dir = tmp_path / "reports" / "today"  # missing: daily creates it
    # built by the fixture: daily's build is tested elsewhere (test_rollout.py)
    result = built_db.cli(
        "daily", "--env", "prod", "--records", str(records), "--report-dir", str(report_dir),
        "--no-build",
    )  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    assert "not building (--no-build)" in result.stderr
    outcome = json.loads((report_dir / "daily-outcome.json").read_text())
    assert outcome["exit_code"] == 2
    assert [(f["file"], f["outcome"]) for f in outcome["files"]] == [
        ("a-failing.jsonl", "failed"),
        ("b-malformed.jsonl", "rejected"),
        # 5 and 15 samples, below prod's minimum of 100, at rates (0.80 and 0.60
        # schema-valid) whose upper bounds miss 0.98: conclusive failures (issue 29)
        ("c-deepeval.json", "failed"),
        ("d-inspect.json", "failed"),
    ]
    sources = built_db.execute(
        "select source_file, metadata -> 'source' ->> 'tool' from ai_eval_runs order by 1"
    )
    assert sources == [
        ("a-failing.jsonl", None),
        ("c-deepeval.json", "deepeval"),
        ("d-inspect.json", "inspect-ai"),
    ]
    assert "b-malformed.jsonl:1: schema_valid: required" in " ".join(
        outcome["files"][1]["problems"]
    )
    lines = result.stdout.splitlines()
    assert any(line.startswith("a-failing.jsonl ") and " FAILED " in line for line in lines)
    assert any(line.startswith("b-malformed.jsonl ") and " REJECTED " in line for line in lines)

    for name in ("a-failing.jsonl", "c-deepeval.json", "d-inspect.json"):
        (records / name).unlink()
    only_rejected = built_db.cli("daily", "--env", "prod", "--records", str(records), "--no-build")
    assert only_rejected.returncode == 3, only_rejected.stdout


# 5 -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "codes"),
    [
        (["run"], ["0", "1", "2", "3", "4", "64"]),
        (["canary", "evaluate"], ["0", "1", "2", "3", "4", "64"]),
        (["canary", "step"], ["0", "1", "3", "64"]),
        (["build"], ["0", "1", "64"]),
        (["daily"], ["0", "1", "2", "3", "4", "64"]),
    ],
)
def test_help_lists_only_the_exit_codes_a_command_returns(
    command: list[str], codes: list[str]
) -> None:
    result = run_cli([*command, "--help"], clean_environ())
    block = result.stdout.split("exit codes:\n", 1)[1].split("\n\n", 1)[0]
    assert [line.split()[0] for line in block.splitlines() if line.startswith("  ")] == codes


# 6 -------------------------------------------------------------------------------------


def test_a_verdict_cannot_be_rewritten(built_db: ClonedDatabase) -> None:
    assert built_db.cli("run", str(FAILING)).returncode == 2
    run_id = built_db.execute("select run_id from ai_eval_runs")[0][0]
    for statement, message in (
        ("update ai_eval_runs set status = 'passed'", "its verdict is final"),
        ("update ai_eval_runs set thresholds = '{}'", "thresholds cannot change"),
        ("update ai_eval_runs set source_sha256 = repeat('1', 64)", "source_sha256 cannot"),
        ("update ai_eval_runs set verdict = null", "its verdict is final"),
        ("delete from ai_eval_runs", "DELETE is not allowed"),
        ("delete from ai_eval_samples", "append-only"),
        ("update ai_eval_samples set schema_valid = true", "append-only"),
        ("truncate ai_eval_samples", "append-only"),
        (
            "insert into ai_eval_samples (run_id, sample_id, line_number, schema_valid,"
            f" safety_html_tailwind_compliant) values ('{run_id}', 'slipped-in', 999, true, true)",
            "is failed; samples are added only while a run is ingested",
        ),
    ):
        with pytest.raises(psycopg.errors.RestrictViolation, match=message):
            built_db.execute(statement)
    # One plain table: nothing to detach, no table per run.
    assert built_db.execute(
        "select relkind from pg_class where oid = 'ai_eval_samples'::regclass"
    ) == [("r",)]
    assert built_db.execute(
        "select count(*) from pg_class where relname like 'ai\\_eval\\_samples\\_%'"
        " and relkind in ('r', 'p')"
    ) == [(0,)]
    check = built_db.cli("check", "--run-id", run_id)
    assert check.returncode == 2 and "FAILED" in check.stdout


# 7 -------------------------------------------------------------------------------------

CHANGE = (
    "insert into ai_provider_config_changes (change_set_id, provider, environment, enabled,"
    " is_default, weight, timeout_ms, max_retries, reason, changed_by, changed_via,"
    " before_values) values (gen_random_uuid(), %s, 'prod', %s, %s, %s, 30000, 2,"
    " 'incident', 'on-call', 'sql', '{}')"
)


def test_the_sql_path_keeps_the_routing_invariants(built_db: ClonedDatabase) -> None:
    before = built_db.cli("flags", "--env", "prod", "--json").stdout
    with pytest.raises(psycopg.errors.CheckViolation, match=r"prod: exactly one enabled"):
        built_db.execute(CHANGE, ("openai", False, True, 99))  # the only default, disabled
    with (
        pytest.raises(psycopg.errors.CheckViolation, match="weight > 0"),
        built_db.database.connect() as conn,
    ):
        conn.execute(CHANGE, ("openai", True, True, 0))
        conn.execute(CHANGE, ("custom", True, False, 0))
    with pytest.raises(psycopg.errors.CheckViolation, match="unknown provider 'other'"):
        built_db.execute(CHANGE, ("other", True, False, 1))
    assert built_db.cli("flags", "--env", "prod", "--json").stdout == before
    # A whole change set that keeps the invariants is accepted, moving the default.
    with built_db.database.connect() as conn:
        conn.execute(CHANGE, ("openai", True, False, 99))
        conn.execute(CHANGE, ("custom", True, True, 1))
    assert [
        (c["provider"], c["is_default"])
        for c in json.loads(built_db.cli("flags", "--env", "prod", "--json").stdout)
    ] == [("custom", True), ("openai", False)]


# 8 -------------------------------------------------------------------------------------


def test_the_stored_hash_is_of_the_bytes_read_once(
    built_db: ClonedDatabase, tmp_path: Path
) -> None:
    content = PASSING.read_bytes()
    fifo = tmp_path / "records.fifo"
    os.mkfifo(fifo)
    process = start_cli(built_db, "run", str(fifo), "--env", "staging")
    with fifo.open("wb") as writer:  # a pipe is read once: there is no second pass
        half = len(content) // 2
        writer.write(content[:half])
        writer.flush()
        time.sleep(0.3)
        writer.write(content[half:])
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert built_db.execute("select source_sha256, source_file from ai_eval_runs") == [
        (hashlib.sha256(content).hexdigest(), "records.fifo")
    ]
    piped = subprocess.run(
        [*CLI, "run", "-", "--env", "staging"],
        input=content,
        env=built_db.env,
        capture_output=True,
        check=False,
    )
    assert piped.returncode == 0, piped.stderr
    assert "(already recorded; verdict re-reported)" in piped.stdout.decode()
    substituted = subprocess.run(
        ["bash", "-c", 'exec "$@" run <(cat "$0") --env staging', str(PASSING), *CLI],
        env=built_db.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert substituted.returncode == 0, substituted.stderr
    assert built_db.execute("select count(*) from ai_eval_runs") == [(1,)]
    # The same bytes plus failing lines are another run with its own verdict, and the
    # original file still reports its own.
    appended = tmp_path / "appended.jsonl"
    failing_lines = "".join(
        json.dumps(record(index, sample_id=f"extra-{index}", schema_valid=False)) + "\n"
        for index in range(400)
    )
    appended.write_bytes(content + failing_lines.encode())
    assert built_db.cli("run", str(appended), "--env", "staging").returncode == 2
    assert built_db.cli("run", str(PASSING), "--env", "staging").returncode == 0


# 9 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_sigterm_during_ingest_rolls_back(
    built_db: ClonedDatabase, tmp_path: Path, stop: signal.Signals
) -> None:
    """A scheduler's SIGTERM, or the SIGHUP of a closing terminal (issue 29: it exited
    129 with no message): the ingest rolls back and says why it stopped."""
    big = write_records(tmp_path / "big.jsonl", 400_000)
    process = start_cli(built_db, "run", str(big))
    wait_for_activity(built_db, "query ilike 'copy%'")
    process.send_signal(stop)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1
    assert stderr.strip().splitlines()[-1] == (
        f"ai-gate: terminated ({stop.name}); nothing more was written"
    )
    assert_clean_failure(stderr)
    assert built_db.execute("select count(*) from ai_eval_runs") == [(0,)]
    assert built_db.execute("select count(*) from ai_eval_samples") == [(0,)]


def test_sigterm_during_judging_aborts_the_run(built_db: ClonedDatabase, tmp_path: Path) -> None:
    records = write_records(tmp_path / "records.jsonl", 100_000)
    process = start_cli(built_db, "run", str(records))
    wait_for_activity(built_db, "query ilike 'copy%'")
    # Ingest has read the gate definitions already; judging reads them again and
    # waits for this lock, so the signal arrives while it judges.
    with built_db.database.connect() as locker:
        locker.execute("lock table ai_eval_gate_definitions in access exclusive mode")
        wait_for_activity(built_db, "wait_event_type = 'Lock'")
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1
    assert_clean_failure(stderr)
    assert "terminated (SIGTERM)" in stderr
    assert built_db.execute("select status, metadata ->> 'error' from ai_eval_runs") == [
        ("aborted", "Terminated: SIGTERM")
    ]
    retried = built_db.cli("run", str(records))
    assert retried.returncode == 0, retried.stderr
    # judged now, not "already recorded; verdict re-reported" (issue 29)
    assert "(ingested before by a run that did not finish; judged now)" in retried.stdout
    assert "already recorded" not in retried.stdout
    assert built_db.execute("select status from ai_eval_runs") == [("passed",)]


# 10 ------------------------------------------------------------------------------------


def test_two_identical_runs_at_once_report_one_verdict(
    built_db: ClonedDatabase, tmp_path: Path
) -> None:
    records = write_records(tmp_path / "records.jsonl", 60_000, schema_valid=False)
    first = start_cli(built_db, "run", str(records))
    second = start_cli(built_db, "run", str(records))
    outputs = [process.communicate(timeout=120) for process in (first, second)]
    assert [first.returncode, second.returncode] == [2, 2], outputs
    for stdout, stderr in outputs:
        assert "FAILED" in stdout and "RUNNING" not in stdout, stdout
        assert "Traceback" not in stderr
    assert built_db.execute("select count(*), min(status) from ai_eval_runs") == [(1, "failed")]


# 11 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            '{"sample_id": "\\ud800", "schema_valid": true,'
            ' "safety_html_tailwind_compliant": true}',
            "bad.jsonl:2: sample_id: contains an unpaired surrogate (\\ud800)",
        ),
        (
            '{"sample_id": "m", "schema_valid": true, "safety_html_tailwind_compliant": true,'
            ' "metadata": {"note": "\\udfff"}}',
            "bad.jsonl:2: metadata: contains an unpaired surrogate (\\udfff)",
        ),
        (
            '{"sample_id": "d", "schema_valid": true, "safety_html_tailwind_compliant": true,'
            ' "metadata": ' + '{"a": ' * 5000 + "1" + "}" * 5000 + "}",
            "bad.jsonl:2: invalid JSON: nested too deeply",
        ),
        (
            '{"sample_id": "d", "schema_valid": true, "safety_html_tailwind_compliant": true,'
            ' "metadata": ' + '{"a": ' * 40 + "1" + "}" * 40 + "}",
            "bad.jsonl:2: metadata: nested deeper than 32 levels",
        ),
    ],
    ids=["surrogate-sample-id", "surrogate-metadata", "nested-5000", "nested-40"],
)
def test_odd_records_are_rejected_not_crashed_on(
    built_db: ClonedDatabase, tmp_path: Path, line: str, expected: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(record(0)) + "\n" + line + "\n")
    result = built_db.cli("run", str(path))
    assert result.returncode == 3, result.stderr
    assert_clean_failure(result.stderr)
    assert any(line.endswith(f"/{expected}") for line in result.stderr.splitlines())
    assert built_db.execute("select count(*) from ai_eval_runs") == [(0,)]


@pytest.mark.parametrize("option", ["--weight", "--timeout-ms", "--max-retries"])
def test_flag_values_beyond_the_column_type_are_refused(
    built_db: ClonedDatabase, option: str
) -> None:
    result = built_db.cli(
        "flags", "set", "custom", "--env", "prod", option, "2147483648", "--reason", "too big"
    )
    assert result.returncode == 3, result.stderr
    assert_clean_failure(result.stderr)
    assert "must be from" in result.stderr and "2,147,483,647, got 2,147,483,648" in result.stderr
    assert built_db.execute("select count(*) from ai_provider_config_changes") == [(0,)]


def test_a_port_that_is_not_a_number_is_an_error() -> None:
    env = {**clean_environ(), "DATABASE_URL": "postgresql://postgres@127.0.0.1:abc/x"}
    result = run_cli(["flags"], env)
    assert result.returncode == 1
    assert result.stderr == "ai-gate: DATABASE_URL: port 'abc' is not a number from 1 to 65535\n"


def test_the_connection_lost_during_copy_is_an_error(
    built_db: ClonedDatabase, tmp_path: Path
) -> None:
    big = write_records(tmp_path / "big.jsonl", 400_000)
    process = start_cli(built_db, "run", str(big))
    pid = wait_for_activity(built_db, "query ilike 'copy%'")
    # What a server shutdown does to the session: terminate it (57P01).
    built_db.execute("select pg_terminate_backend(%s)", (pid,))
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1
    assert_clean_failure(stderr)
    assert stderr.splitlines()[-1].startswith("ai-gate: lost the database connection: ")
    assert built_db.execute("select count(*) from ai_eval_runs") == [(0,)]


def test_the_connection_lost_while_judging_aborts_the_run(
    built_db: ClonedDatabase, tmp_path: Path
) -> None:
    records = write_records(tmp_path / "records.jsonl", 100_000)
    process = start_cli(built_db, "run", str(records))
    wait_for_activity(built_db, "query ilike 'copy%'")
    with built_db.database.connect() as locker:
        locker.execute("lock table ai_eval_gate_definitions in access exclusive mode")
        pid = wait_for_activity(built_db, "wait_event_type = 'Lock'")
        built_db.execute("select pg_terminate_backend(%s)", (pid,))
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1
    assert_clean_failure(stderr)
    assert "it is marked aborted (run it again to judge it)" in stderr
    assert built_db.execute("select status from ai_eval_runs") == [("aborted",)]


# 12 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["postgresql://postgres:SECRETPW@[::1", "postgresql://postgres:SECRET%ZZPW@127.0.0.1/x"],
)
def test_an_unparsable_url_is_reported_without_its_password(url: str) -> None:
    result = run_cli(["flags"], {**clean_environ(), "DATABASE_URL": url})
    assert result.returncode == 1
    assert "DATABASE_URL is not a valid connection string" in result.stderr
    assert "SECRET" not in result.stderr + result.stdout
    assert_clean_failure(result.stderr)


# 13 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--reason", "line one\nforged line"], "--reason contains a control character (U+000A)"),
        (["--reason", "\x1b[31mred"], "--reason contains a control character (U+001B)"),
        (["--reason", "x" * 100_000], "--reason is 100,000 characters; at most 500"),
        (["--reason", "ok", "--actor", ""], "--actor must not be blank"),
    ],
    ids=["newline", "ansi", "long", "blank-actor"],
)
def test_audit_text_is_refused_when_unsafe(
    built_db: ClonedDatabase, extra: list[str], message: str
) -> None:
    result = built_db.cli("flags", "set", "custom", "--env", "prod", "--weight", "2", *extra)
    assert result.returncode == 3, result.stderr
    assert message in result.stderr
    assert built_db.execute("select count(*) from ai_provider_config_changes") == [(0,)]


def test_flags_history_escapes_what_came_in_through_sql(built_db: ClonedDatabase) -> None:
    guard = "ai_provider_config_changes_invariants"
    # Planted as a row written before the database checked audit text.
    built_db.execute(
        f"alter table ai_provider_config_changes disable trigger {guard};"
        + CHANGE.replace("'incident'", "E'evil\\n1   forged\\u001b[2J\\u202e'")
        % ("'custom'", "true", "false", "2")
        + f"; alter table ai_provider_config_changes enable trigger {guard}"
    )
    history = built_db.cli("flags", "history", "--env", "prod")
    assert history.returncode == 0
    assert "evil\\x0a1   forged\\x1b[2J\\u202e" in history.stdout
    assert "\x1b" not in history.stdout and "\u202e" not in history.stdout
    assert len(history.stdout.splitlines()) == 3  # header, rule, one entry


# 14 ------------------------------------------------------------------------------------


def test_small_things(built_db: ClonedDatabase, tmp_path: Path) -> None:
    perfect = write_records(tmp_path / "perfect.jsonl", 100, latency_ms=-0.0)
    report_path = tmp_path / "report.json"
    assert built_db.cli("run", str(perfect), "--report-json", str(report_path)).returncode == 0
    for low_high in json.loads(report_path.read_text())["confidence_intervals"].values():
        if low_high["low"] is not None:
            assert 0.0 <= low_high["low"] <= low_high["high"] <= 1.0, low_high
    assert built_db.execute(
        "select schema_valid_rate_ci_high, fallback_rate_ci_low from ai_eval_run_summary_v1"
    ) == [(1.0, 0.0)]
    assert built_db.execute("select distinct latency_ms::text from ai_eval_samples") == [("0",)]

    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"sample_id": "a", "schema_valid": 1, "safety_html_tailwind_compliant": true}\n'
        '{"sample_id": "b", "schema_valid": true, "safety_html_tailwind_compliant": true,'
        ' "latency_ms": 1e400}\n'
        '{"sample_id": "a", "schema_valid": true, "safety_html_tailwind_compliant": true}\n'
    )
    result = built_db.cli("run", str(bad))
    assert result.returncode == 3
    assert result.stderr.splitlines()[1:] == [
        "ai-gate: bad.jsonl: rejected, 3 problems; nothing was written".replace(
            "bad.jsonl", str(bad)
        ),
        f"  {bad}:1: schema_valid: must be true or false, got number",
        f"  {bad}:2: latency_ms: must be finite",
        f"  {bad}:3: sample_id: duplicate 'a' (first on line 1)",
    ]


def test_a_huge_line_is_refused_in_bounded_memory(built_db: ClonedDatabase, tmp_path: Path) -> None:
    path = tmp_path / "huge.jsonl"
    with path.open("w") as handle:
        handle.write(json.dumps(record(0)) + "\n")
        handle.write('{"sample_id": "big", "metadata": {"blob": "')
        for _ in range(50):
            handle.write("x" * 1_000_000)
        handle.write('"}}\n')
        handle.write(json.dumps(record(2)) + "\n")
    # The process's own peak (VmHWM is per address space, so exec resets it).
    reporting_peak = (
        "import atexit, sys; from ai_gate.cli import entrypoint; atexit.register(lambda:"
        " sys.stderr.write([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]));"
        " entrypoint()"
    )
    result = subprocess.run(
        [sys.executable, "-c", reporting_peak, "run", str(path)],
        env=built_db.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 3, result.stderr
    lines = result.stderr.splitlines()
    assert f"  {path}:2: line longer than 1,048,576 bytes" in lines
    peak_kib = int(lines[-1].split()[1])
    assert peak_kib < 100_000, f"peak RSS {peak_kib} KiB"


# ADR 0003 ------------------------------------------------------------------------------

# The last commit whose `ai-gate` partitioned eval samples by run (ADR 0002).
PARTITIONED_COMMIT = "1bfbf2d"


def test_a_build_turns_a_partitioned_database_into_the_plain_table(
    template: str, empty_db: ClonedDatabase, tmp_path: Path
) -> None:
    # (`template` creates the cluster's Supabase roles the old build revokes from.)
    """A database built and populated by the code of PARTITIONED_COMMIT: the next build
    keeps every sample, unchanged, in one plain table with its keys and guards."""
    old = tmp_path / "old"
    old.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", PARTITIONED_COMMIT],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        pytest.skip(f"needs the git history of this checkout: {archive.stderr.decode()[:200]}")
    subprocess.run(["tar", "-x", "-C", str(old)], input=archive.stdout, check=True)
    old_env = {**empty_db.env, "PYTHONPATH": str(old / "runner"), "AI_GATE_PROJECT_DIR": str(old)}
    for args in (["init-dev"], ["build"], ["run", str(PASSING)], ["run", str(FAILING)]):
        # that commit's command (it had no `python -m ai_gate`)
        old_cli = [sys.executable, "-c", "from ai_gate.cli import entrypoint; entrypoint()"]
        completed = subprocess.run(
            [*old_cli, *args], env=old_env, capture_output=True, text=True, check=False
        )
        assert completed.returncode in (0, 2), completed.stdout + completed.stderr
    assert empty_db.execute(
        "select relkind from pg_class where oid = 'ai_eval_samples'::regclass"
    ) == [("p",)]
    samples = "select * from ai_eval_samples order by run_id, sample_id"
    summaries = "select * from ai_eval_run_summary_v1 order by run_id"
    samples_before, summaries_before = empty_db.execute(samples), empty_db.execute(summaries)
    assert len(samples_before) == 400

    built = empty_db.cli("build")
    assert built.returncode == 0, built.stdout + built.stderr
    # every row kept; the columns this version added are null on rows ingested before
    samples_after = empty_db.execute(samples)
    width = len(samples_before[0])
    assert [row[:width] for row in samples_after] == samples_before
    assert {row[width:] for row in samples_after} == {(None,) * (len(samples_after[0]) - width)}
    assert empty_db.execute(summaries) == summaries_before
    assert empty_db.execute(
        "select relkind from pg_class where oid = 'ai_eval_samples'::regclass"
    ) == [("r",)]
    assert empty_db.execute(
        "select count(*) from pg_class where relname like 'ai\\_eval\\_samples\\_%'"
        " and relkind in ('r', 'p')"
    ) == [(0,)]
    assert empty_db.execute(
        "select contype, pg_get_constraintdef(oid) from pg_constraint"
        " where conrelid = 'ai_eval_samples'::regclass and contype in ('p', 'f') order by 1"
    ) == [
        ("f", "FOREIGN KEY (run_id) REFERENCES ai_eval_runs(run_id)"),
        ("p", "PRIMARY KEY (run_id, sample_id)"),
    ]
    with pytest.raises(psycopg.errors.RestrictViolation):
        empty_db.execute("delete from ai_eval_samples")
    assert empty_db.cli("check", "--latest").returncode == 2
    assert empty_db.cli("run", str(PASSING), "--env", "staging").returncode == 0
