"""Routing flags through the CLI and the library: invariants, audit log, concurrency."""

from __future__ import annotations

import dataclasses
import json
import re
import threading
from pathlib import Path

import psycopg
import pytest
from conftest import ClonedDatabase

from ai_gate.errors import InputRejected
from ai_gate.rollout.arms import Arms, resolve_arms
from ai_gate.routing.change_log import FlagChange, record_change
from ai_gate.routing.configuration import ProviderConfig
from ai_gate.routing.traffic import traffic_shares, weights_for_share

PASSING_RECORDS = Path(__file__).resolve().parents[2] / "examples" / "evals" / "passing.jsonl"


def effective(db: ClonedDatabase, env: str) -> dict[str, dict]:
    result = db.cli("flags", "--env", env, "--json")
    assert result.returncode == 0, result.stderr
    return {row["provider"]: row for row in json.loads(result.stdout)}


def change_count(db: ClonedDatabase) -> int:
    return db.execute("select count(*) from ai_provider_config_changes")[0][0]


def test_seeded_defaults(built_db: ClonedDatabase) -> None:
    prod = effective(built_db, "prod")
    assert prod["openai"]["enabled"] and prod["openai"]["is_default"]
    assert prod["custom"]["enabled"] and not prod["custom"]["is_default"]
    assert set(effective(built_db, "staging")) == {"openai", "custom"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["openai", "--env", "prod", "--disable"],
            "exactly one enabled provider must be the default",
        ),
        (
            ["custom", "--env", "prod", "--weight", "-5"],
            "--weight must be from 0 to 2,147,483,647, got -5",
        ),
        (
            ["custom", "--env", "prod", "--timeout-ms", "0"],
            "--timeout-ms must be from 1 to 2,147,483,647, got 0",
        ),
        (
            ["custom", "--env", "prod", "--max-retries", "-1"],
            "--max-retries must be from 0 to 2,147,483,647, got -1",
        ),
        # custom (weight 1) still serves: the invariants hold (its traffic acknowledged)
        (["openai", "--env", "prod", "--weight", "0", "--confirm-traffic"], None),
        (["nope", "--env", "prod", "--enable"], "unknown provider 'nope'"),
        (["custom", "--env", "qa", "--enable"], "unknown environment 'qa'"),
    ],
)
def test_invalid_changes_are_refused_and_nothing_is_written(
    built_db: ClonedDatabase, args: list[str], message: str | None
) -> None:
    before = change_count(built_db)
    result = built_db.cli("flags", "set", *args, "--reason", "test")
    if message is None:
        assert result.returncode == 0, result.stderr
        return
    assert result.returncode == 3, result.stderr
    assert message in result.stderr
    assert change_count(built_db) == before


def test_no_enabled_weight_left_is_refused(built_db: ClonedDatabase) -> None:
    assert (
        built_db.cli(
            "flags", "set", "custom", "--env", "prod", "--weight", "0", "--reason", "pause canary"
        ).returncode
        == 0
    )
    result = built_db.cli(
        "flags", "set", "openai", "--env", "prod", "--weight", "0", "--reason", "oops"
    )
    assert result.returncode == 3
    assert "at least one enabled provider needs a weight > 0" in result.stderr
    assert change_count(built_db) == 1


def test_blank_reason_is_refused(built_db: ClonedDatabase) -> None:
    result = built_db.cli("flags", "set", "custom", "--env", "prod", "--disable", "--reason", "  ")
    assert result.returncode == 3
    assert change_count(built_db) == 0


def test_moving_the_default_is_one_audited_change_set(built_db: ClonedDatabase) -> None:
    result = built_db.cli(
        "flags",
        "set",
        "custom",
        "--env",
        "staging",
        "--default",
        "--reason",
        "promote custom",
        "--actor",
        "alice",
        "--confirm-traffic",  # the canary becomes the fallback target
    )
    assert result.returncode == 0, result.stderr
    staging = effective(built_db, "staging")
    assert staging["custom"]["is_default"] and not staging["openai"]["is_default"]
    assert effective(built_db, "prod")["openai"]["is_default"]  # other environments untouched

    history = built_db.cli("flags", "history", "--env", "staging", "--json")
    entries = json.loads(history.stdout)
    assert len(entries) == 2
    assert len({entry["change_set_id"] for entry in entries}) == 1
    assert {entry["changed_by"] for entry in entries} == {"alice"}
    by_provider = {entry["provider"]: entry for entry in entries}
    assert by_provider["custom"]["before"]["is_default"] is False
    assert by_provider["custom"]["after"]["is_default"] is True
    assert by_provider["openai"]["before"]["is_default"] is True
    assert by_provider["openai"]["after"]["is_default"] is False
    text = built_db.cli("flags", "history").stdout
    assert "is_default false->true" in text and "promote custom" in text


def test_a_change_that_changes_nothing_records_nothing(built_db: ClonedDatabase) -> None:
    result = built_db.cli("flags", "set", "custom", "--env", "prod", "--enable", "--reason", "x")
    assert result.returncode == 0
    assert "nothing recorded" in result.stdout
    assert change_count(built_db) == 0


def test_the_change_log_is_append_only(built_db: ClonedDatabase) -> None:
    assert (
        built_db.cli(
            "flags", "set", "custom", "--env", "prod", "--disable", "--reason", "drill"
        ).returncode
        == 0
    )
    for statement in (
        "update ai_provider_config_changes set reason = 'rewritten'",
        "delete from ai_provider_config_changes",
        "truncate ai_provider_config_changes",
    ):
        with pytest.raises(psycopg.errors.RestrictViolation, match="append-only"):
            built_db.execute(statement)
    assert built_db.execute("select reason from ai_provider_config_changes") == [("drill",)]


def test_the_runbook_can_append_a_change_in_plain_sql(built_db: ClonedDatabase) -> None:
    # Defaults fill who-ran-it and when; the view picks the row up at once.
    built_db.execute(
        "insert into ai_provider_config_changes (change_set_id, provider, environment, enabled,"
        " is_default, weight, timeout_ms, max_retries, reason, changed_by, before_values)"
        " select gen_random_uuid(), provider, environment, false, is_default, weight,"
        " timeout_ms, max_retries, 'incident 42', 'oncall', '{}'::jsonb"
        " from ai_provider_configs where provider = 'custom' and environment = 'prod'"
    )
    assert effective(built_db, "prod")["custom"]["enabled"] is False
    row = built_db.execute("select changed_via, db_user from ai_provider_config_changes")
    assert row[0][0] == "sql" and row[0][1]


def test_concurrent_changes_are_serialized_against_the_invariants(
    built_db: ClonedDatabase,
) -> None:
    # Each change is valid alone; together they would leave staging no traffic.
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def change(provider: str) -> None:
        barrier.wait()
        try:
            outcomes[provider] = record_change(
                built_db.database,
                FlagChange(
                    provider=provider, environment="staging", reason="race", actor="test", weight=0
                ),
            )
        except InputRejected as exc:
            outcomes[provider] = exc

    threads = [threading.Thread(target=change, args=(p,)) for p in ("openai", "custom")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rejected = [value for value in outcomes.values() if isinstance(value, InputRejected)]
    assert len(rejected) == 1
    staging = effective(built_db, "staging")
    assert sum(1 for row in staging.values() if row["enabled"] and row["weight"] > 0) == 1


def test_flags_for_an_unknown_environment_is_rejected(built_db: ClonedDatabase) -> None:
    result = built_db.cli("flags", "--env", "nowhere")
    assert result.returncode == 3
    assert "unknown environment 'nowhere' (known: prod, staging)" in result.stderr


def test_every_command_before_a_build_says_to_build(empty_db: ClonedDatabase) -> None:
    # "not built" is said in one place (Database.connect), alike for every command
    commands = {
        "flags": ["flags"],
        "flags history": ["flags", "history"],
        "run": ["run", str(PASSING_RECORDS)],
        "check": ["check", "--latest"],
        "canary evaluate": ["canary", "evaluate"],
        "latency": ["latency"],
    }
    said = {}
    for name, args in commands.items():
        result = empty_db.cli(*args)
        database = result.stderr.splitlines()[0].removeprefix("ai-gate: database ")
        said[name] = (result.returncode, result.stderr.splitlines()[-1], database)
    for name, (code, line, database) in said.items():
        assert code == 1, (name, line)
        assert re.fullmatch(
            rf'ai-gate: (relation "public\.\w+"|public\.ai_latency_\w+) does not exist on '
            rf"{re.escape(database)}: run `ai-gate build` first.*",
            line,
        ), (name, line)
    assert said["flags"][1] == (
        'ai-gate: relation "public.ai_provider_configs" does not exist on '
        f"{said['flags'][2]}: run `ai-gate build` first"
    )


def test_every_command_refuses_an_unknown_environment_alike(
    built_db: ClonedDatabase, tmp_path: Path
) -> None:
    records = Path(__file__).resolve().parents[2] / "examples" / "evals" / "passing.jsonl"
    commands = [
        ["flags", "--env"],
        ["flags", "set", "custom", "--enable", "--reason", "r", "--env"],
        ["run", str(records), "--env"],
        ["check", "--latest", "--env"],
        ["canary", "evaluate", "--env"],
        ["canary", "step", "--env"],
        ["simulate", "--scenario", "healthy", "--rows", "100", "--seed", "1", "--env"],
        ["drill", "rollback", "--env"],
        ["daily", "--records", str(records), "--env"],
        ["report", "--html", str(tmp_path / "r.html"), "--env"],
    ]
    for command in commands:
        result = built_db.cli(*command, "produ")
        assert result.returncode == 3, (command, result.stderr)
        assert result.stderr.splitlines()[-1] == (
            "ai-gate: unknown environment 'produ' (known: prod, staging)"
        ), command
    assert built_db.execute("select count(*) from ai_eval_runs") == [(0,)]


def provider(
    name: str,
    weight: int,
    *,
    default: bool = False,
    role: str | None = None,
    enabled: bool = True,
    environment: str = "prod",
) -> ProviderConfig:
    return ProviderConfig(
        provider=name,
        environment=environment,
        enabled=enabled,
        is_default=default,
        weight=weight,
        timeout_ms=30_000,
        max_retries=1,
        model=None,
        prompt_template_version=None,
        metadata={"role": role} if role else None,
        last_change_id=None,
        last_changed_at=None,
        last_changed_by=None,
        last_change_reason=None,
    )


def test_the_arms_come_from_the_seeded_roles_and_are_checked_once() -> None:
    seeded = [
        provider("openai", 99, default=True, role="primary"),
        provider("custom", 1, role="canary"),
    ]
    assert resolve_arms(seeded, "prod") == Arms("prod", "custom", "openai")
    # several primaries: the default among them; no primary role at all: the default
    three = [*seeded, provider("anthropic", 50, role="primary")]
    assert resolve_arms(three, "prod").baseline == "openai"
    bare = [provider("a", 90, default=True), provider("b", 10, role="canary")]
    assert resolve_arms(bare, "prod") == Arms("prod", "b", "a")
    assert resolve_arms(three, "prod", "anthropic", "custom") == Arms("prod", "anthropic", "custom")
    refusals = {
        "no canary role": (bare[:1], "prod", None, None),
        "unknown provider": (seeded, "prod", "nope", None),
        "same provider": (seeded, "prod", "openai", "openai"),
        "unknown environment": (seeded, "qa", None, None),
    }
    messages = {}
    for case, (configs, environment, canary, baseline) in refusals.items():
        with pytest.raises(InputRejected) as refused:
            resolve_arms(configs, environment, canary, baseline)
        messages[case] = str(refused.value)
    assert messages == {
        "no canary role": "no single canary in 'prod' (providers whose metadata role is"
        " 'canary': none); name it with --canary",
        "unknown provider": "unknown provider 'nope' in environment 'prod'"
        " (its providers: custom, openai)",
        "same provider": "the canary and the baseline must be different providers (both 'openai')",
        "unknown environment": "unknown environment 'qa' (known: prod)",
    }


def test_a_share_for_the_canary_keeps_the_others_relative_weights() -> None:
    two = [provider("openai", 99, default=True), provider("custom", 1)]
    assert weights_for_share(two, "custom", 5) == {"custom": 5, "openai": 95}
    three = [*two, provider("anthropic", 33)]
    weights = weights_for_share(three, "custom", 25)
    assert weights == {"custom": 4, "openai": 9, "anthropic": 3}  # 3:1 kept, 25% exact
    shares = traffic_shares([dataclasses.replace(c, weight=weights[c.provider]) for c in three])
    assert shares[("prod", "custom")] == pytest.approx(0.25)
    disabled = [*two, provider("mistral", 70, enabled=False)]
    assert weights_for_share(disabled, "custom", 50) == {"custom": 50, "openai": 50}
    assert weights_for_share(three, "custom", 100) == {
        "custom": 100,
        "openai": 0,
        "anthropic": 0,
    }
    with pytest.raises(InputRejected, match="no other enabled provider"):
        weights_for_share([provider("custom", 1)], "custom", 5)
