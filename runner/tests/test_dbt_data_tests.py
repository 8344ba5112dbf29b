"""Every dbt data test we wrote fails on violating data and passes on clean data.

One dbt invocation runs every data test of the project on a database: on a clean one
(seeded routing, valid telemetry, ingested eval runs) every test passes; on each
planted one, violations of every family sit together (telemetry rows, routing
changes and seed values, catalog settings, eval runs), chosen so that they do not
mask each other, and the exact set of failing tests, with the number of failing
rows each reports, must be what the planted violations imply. A test that errors
instead of failing is a defect too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import TEST_DATABASE, ClonedDatabase, Server, cloned_database

from ai_gate.dbt_project import DbtResult, run_dbt

CUTOVER = "2026-01-01 00:00:00+00"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "evals"
FAILURES = re.compile(r"Got (\d+) results?")


def dbt_test(db: ClonedDatabase, selection: str | None = None) -> DbtResult:
    """Every data test of the project (or those `selection` selects), in one invocation."""
    select = ["--select", *selection.split()] if selection else []
    result = run_dbt(
        db.database,
        ["test", *select, "--vars", f"{{telemetry_cutover: '{CUTOVER}'}}"],
    )
    assert isinstance(result, DbtResult)
    errors = [p for p in result.problems if p.status != "fail"]
    assert not errors, [p.render() for p in errors]  # a test must fail, never error
    assert result.counts.get("pass", 0) + result.counts.get("fail", 0) > 0, result.output_tail
    return result


def failing(result: DbtResult) -> dict[str, int]:
    """Each failing test's name and the number of failing rows it reported."""
    found = {}
    for problem in result.problems:
        match = FAILURES.search(problem.message)
        assert match, problem.render()
        found[problem.unique_id.split(".")[2]] = int(match.group(1))
    return found


def insert_generation(db: ClonedDatabase, **columns: object) -> None:
    names = ", ".join(columns)
    placeholders = ", ".join(["%s"] * len(columns))
    db.execute(
        f"insert into ai_training_examples ({names}) values ({placeholders})",
        tuple(columns.values()),
    )


CLEAN_GENERATIONS: list[dict[str, object]] = [
    # A Phase 1 row from before the cutover: no telemetry at all.
    {"created_at": "2025-06-01 00:00:00+00"},
    # Just before the cutover: no selected_provider is not yet a violation.
    {"created_at": "2025-12-31 23:59:59+00", "requested_provider": "openai"},
    # Served by the requested provider.
    {
        "created_at": "2026-03-01 00:00:00+00",
        "request_id": "r1",
        "requested_provider": "openai",
        "selected_provider": "openai",
        "route_strategy": "weighted",
        "fallback_used": False,
        "latency_ms": 900,
        "model": "gpt-4o",
        "input_tokens": 1200,
        "output_tokens": 2400,
    },
    # Fallback from custom to openai, flagged.
    {
        "created_at": "2026-03-01 00:00:01+00",
        "request_id": "r2",
        "requested_provider": "custom",
        "selected_provider": "openai",
        "route_strategy": "canary",
        "fallback_provider": "openai",
        "fallback_used": True,
        "latency_ms": 2400,
        "cost_usd": 0.031,
    },
]


def ingest_examples(db: ClonedDatabase) -> None:
    assert db.cli("run", str(EXAMPLES / "passing.jsonl")).returncode == 0
    assert db.cli("run", str(EXAMPLES / "failing.jsonl")).returncode == 2


def clean(db: ClonedDatabase) -> None:
    for row in CLEAN_GENERATIONS:
        insert_generation(db, **row)
    ingest_examples(db)
    # synthetic telemetry as `ai-gate simulate` writes it, fallbacks of both arms in it
    simulate = ["simulate", "--scenario", "fallback-storm", "--rows", "2000", "--seed", "5"]
    assert db.cli(*simulate).returncode == 0


# Each violation: how to plant it on a clean database, and what it makes fail (test
# name -> failing rows).
Violation = tuple[Callable[[ClonedDatabase], None], dict[str, int]]


def generation(**row: object) -> Callable[[ClonedDatabase], None]:
    return lambda db: insert_generation(db, created_at="2026-03-02 00:00:00+00", **row)


def statements(*sql: str) -> Callable[[ClonedDatabase], None]:
    return lambda db: [db.execute(statement) for statement in sql]


TELEMETRY_VIOLATIONS: dict[str, Violation] = {
    "missing-selected": (
        generation(requested_provider="openai"),
        {"selected_provider_set_since_cutover": 1},
    ),
    "fallback-not-flagged": (  # fallback provider recorded, fallback_used false
        generation(
            requested_provider="custom",
            selected_provider="openai",
            fallback_provider="openai",
            fallback_used=False,
        ),
        {"fallback_executions_set_fallback_used": 1},
    ),
    "switch-not-flagged": (  # served by another provider than requested, no flag
        generation(requested_provider="custom", selected_provider="openai"),
        {"fallback_executions_set_fallback_used": 1},
    ),
    "flag-without-fallback": (
        generation(requested_provider="openai", selected_provider="openai", fallback_used=True),
        {"fallback_used_names_a_fallback_provider": 1},
    ),
    "negative-tokens": (
        generation(
            requested_provider="openai",
            selected_provider="openai",
            fallback_used=False,
            input_tokens=-5,
            output_tokens=-1,
        ),
        {
            "telemetry_input_tokens_are_not_negative": 1,
            "telemetry_output_tokens_are_not_negative": 1,
        },
    ),
    "infinite-cost": (
        generation(
            requested_provider="openai",
            selected_provider="openai",
            fallback_used=False,
            cost_usd=float("inf"),
        ),
        {"telemetry_costs_are_finite_and_not_negative": 1},
    ),
}

CHANGE_ROW = (
    "insert into ai_provider_config_changes (change_set_id, provider, environment, enabled,"
    " is_default, weight, timeout_ms, max_retries, reason, changed_by, before_values)"
    " values (gen_random_uuid(), %s, %s, %s, %s, %s, 30000, 1, 'test', 'test', '{}')"
)


def unguarded(db: ClonedDatabase, table: str, statement: str, params: tuple | None = None) -> None:
    """Plant a row the database's own guard would refuse, as a database built before
    the guard (or a seed change) could hold it: the dbt tests are the second line."""
    with db.database.connect() as conn:
        conn.execute(f"alter table {table} disable trigger all")
        conn.execute(statement, params)
        conn.execute(f"alter table {table} enable trigger all")


# A seed default is one row per (provider, environment): changing a provider's
# defaults breaks both of its environments' rows.
ROUTING_VIOLATIONS: dict[str, Violation] = {
    "two-defaults": (
        lambda db: unguarded(
            db, "ai_provider_config_changes", CHANGE_ROW, ("custom", "prod", True, True, 1)
        ),
        {"exactly_one_enabled_default_per_environment": 1},
    ),
    "no-default": (
        lambda db: unguarded(
            db, "ai_provider_config_changes", CHANGE_ROW, ("openai", "prod", False, True, 99)
        ),
        {"exactly_one_enabled_default_per_environment": 1},
    ),
    "no-weight": (
        lambda db: [
            unguarded(
                db, "ai_provider_config_changes", CHANGE_ROW, (p, "staging", True, p == "openai", 0)
            )
            for p in ("openai", "custom")
        ],
        {"an_enabled_provider_with_weight_per_environment": 1},
    ),
    "negative-weight": (
        lambda db: db.execute(
            "update ai_provider_config_defaults set weight = -1 where provider = 'custom'"
        ),
        {"expression_is_true_ai_provider_configs_weight___0": 2},
    ),
    "zero-timeout": (
        lambda db: db.execute(
            "update ai_provider_config_defaults set timeout_ms = 0 where provider = 'custom'"
        ),
        {"expression_is_true_ai_provider_configs_timeout_ms___0": 2},
    ),
    "negative-retries": (
        lambda db: db.execute(
            "update ai_provider_config_defaults set max_retries = -1 where provider = 'openai'"
        ),
        {"expression_is_true_ai_provider_configs_max_retries___0": 2},
    ),
    "trigger-on-an-unknown-metric": (
        lambda db: db.execute(
            "update ai_canary_rollback_triggers set metric = 'accessibility_rate'"
            " where environment = 'staging' and trigger_name = 'schema_valid_drop'"
        ),
        {"rollback_trigger_metrics_are_eval_metrics": 1},
    ),
    "quarantine-without-reason-nor-environment": (
        lambda db: db.execute(
            "insert into ai_eval_quarantine (environment, case_id, reason)"
            " values ('nowhere', 'case-001', null)"
        ),
        {"quarantine_environments_have_thresholds": 1, "not_null_ai_eval_quarantine_reason": 1},
    ),
    "gate-on-an-unknown-metric": (
        lambda db: db.execute(
            "update ai_eval_gate_definitions set metric = 'accessibility_rate'"
            " where gate = 'patch_apply_success_min'"
        ),
        {"gate_metrics_are_eval_metrics": 1},
    ),
    "plan-for-an-unknown-canary": (
        lambda db: db.execute(
            "insert into ai_canary_rollout_plan (environment, canary, step, canary_percent)"
            " values ('prod', 'nope', 1, 5)"
        ),
        {"rollout_plan_canary_is_a_provider_of_its_environment": 1},
    ),
    "null-flag": (
        lambda db: db.execute(
            "update ai_provider_config_defaults set enabled = null where provider = 'custom'"
        ),
        {
            "not_null_ai_provider_configs_enabled": 2,
            "not_null_ai_provider_config_defaults_enabled": 2,
        },
    ),
}


SUPABASE_VIOLATIONS: dict[str, tuple[str, dict[str, int]]] = {
    "rls-off": (
        "alter table ai_provider_config_defaults disable row level security",
        {"assert_tables_have_row_level_security": 1},
    ),
    "view-definer-rights": (
        "alter view ai_provider_configs reset (security_invoker)",
        {"assert_views_use_security_invoker": 1},
    ),
    "anon-grant": (
        "grant select on ai_provider_config_changes to anon",
        {"assert_api_roles_have_no_privileges": 1},
    ),
    "authenticated-grant": (
        "grant insert on ai_provider_config_defaults to authenticated",
        {"assert_api_roles_have_no_privileges": 1},
    ),
    "no-primary-key": (
        "alter table ai_provider_config_defaults drop constraint ai_provider_config_defaults_pkey",
        {"assert_tables_have_primary_key": 1},
    ),
    "unindexed-foreign-key": (
        "alter table ai_provider_config_defaults add column last_change_id bigint"
        " references ai_provider_config_changes (change_id)",
        {"assert_foreign_keys_are_indexed": 1},
    ),
    "duplicate-index": (
        "create index extra_change_set_idx on ai_provider_config_changes (change_set_id)",
        {"assert_no_duplicate_indexes": 1},
    ),
}


EVAL_VIOLATIONS: dict[str, tuple[str, dict[str, int]]] = {
    # (no gate judged it: inconclusive, as its status says)
    "run-without-samples": (
        "insert into ai_eval_runs (run_id, run_type, environment, triggered_by, thresholds,"
        " strict, status, finished_at, source_file, source_sha256)"
        " values ('empty-run', 'offline', 'prod', 'test', '{}', false, 'inconclusive', now(),"
        " 'x.jsonl', repeat('0', 64))",
        {"every_eval_run_has_samples": 1},
    ),
    # The guards (foreign key, final verdicts) refuse these; switched off to plant them.
    "sample-without-run": (
        "alter table ai_eval_samples disable trigger all;"
        " insert into ai_eval_samples (run_id, sample_id, line_number, schema_valid,"
        " safety_html_tailwind_compliant) values ('no-such-run', 'x', 1, true, true);"
        " alter table ai_eval_samples enable trigger all",
        {"every_eval_sample_belongs_to_a_run": 1},
    ),
    "finished-but-running": (
        "alter table ai_eval_runs disable trigger ai_eval_runs_final_verdict;"
        " update ai_eval_runs set status = 'running' where source_file = 'passing.jsonl';"
        " alter table ai_eval_runs enable trigger ai_eval_runs_final_verdict",
        {"finished_eval_runs_have_a_terminal_status": 1},
    ),
    "unfinished-but-terminal": (
        "alter table ai_eval_runs disable trigger ai_eval_runs_final_verdict;"
        " update ai_eval_runs set finished_at = null where source_file = 'passing.jsonl';"
        " alter table ai_eval_runs enable trigger ai_eval_runs_final_verdict",
        {"finished_eval_runs_have_a_terminal_status": 1},
    ),
    "stored-status-disagrees": (
        "alter table ai_eval_runs disable trigger ai_eval_runs_final_verdict;"
        " update ai_eval_runs set status = 'passed' where source_file = 'failing.jsonl';"
        " alter table ai_eval_runs enable trigger ai_eval_runs_final_verdict",
        {"assert_eval_run_status_matches_gates": 1},
    ),
    "negative-threshold": (
        "update ai_eval_thresholds set threshold = -1"
        " where environment = 'prod' and gate = 'fallback_rate_max'",
        {"eval_thresholds_are_not_negative": 1},
    ),
    "zero-min-samples": (
        "update ai_eval_thresholds set min_samples = 0"
        " where environment = 'prod' and gate = 'p95_latency_ms_max'",
        {"eval_min_samples_are_positive": 1},
    ),
    "no-min-samples": (
        "update ai_eval_thresholds set min_samples = null"
        " where environment = 'staging' and gate = 'schema_valid_rate_min'",
        # (a null is no minimum >= 1 either)
        {"not_null_ai_eval_thresholds_min_samples": 1, "eval_min_samples_are_positive": 1},
    ),
    "synthetic-fallback-unflagged": (
        "insert into ai_synthetic_generations (scenario, seed, created_at, requested_provider,"
        " selected_provider, fallback_provider, fallback_used, latency_ms)"
        " values ('x', 1, now(), 'custom', 'openai', 'openai', false, 10)",
        {"synthetic_fallback_executions_set_fallback_used": 1},
    ),
    "synthetic-flag-without-fallback": (
        "insert into ai_synthetic_generations (scenario, seed, created_at, requested_provider,"
        " selected_provider, fallback_used, latency_ms)"
        " values ('x', 1, now(), 'openai', 'openai', true, 10)",
        {"synthetic_fallback_used_names_a_fallback_provider": 1},
    ),
    "gate-missing-from-environment": (
        "delete from ai_eval_thresholds"
        " where environment = 'staging' and gate = 'fallback_rate_max'",
        {"assert_every_environment_lists_every_gate": 1},
    ),
}


def wrong_summary_view(version: int) -> Callable[[ClonedDatabase], None]:
    """A regression in a version of the summary view: p95 computed as the median."""

    def plant(db: ClonedDatabase) -> None:
        view = f"ai_eval_run_summary_v{version}"
        definition = db.execute(f"select pg_get_viewdef('{view}'::regclass)")[0][0]
        broken = definition.replace("percentile_cont((0.95)", "percentile_cont((0.5)")
        assert broken != definition
        db.execute(f"create or replace view {view} with (security_invoker = true) as {broken}")

    return plant


VIEW_VIOLATIONS: dict[str, Violation] = {
    # every ingested run has p95 > p50: both examples and the simulated run
    "wrong-summary-view": (wrong_summary_view(1), {"assert_eval_summary_matches_samples": 3}),
    "wrong-summary-v2-view": (
        wrong_summary_view(2),
        {"assert_eval_summary_v2_matches_samples": 3},
    ),
}

# Which violations share a database: none of a group masks another's (two that break
# the same invariant do so in different environments or rows).
PLANTED: dict[str, tuple[str, ...]] = {
    "first": (
        "missing-selected",
        "fallback-not-flagged",
        "flag-without-fallback",
        "two-defaults",
        "no-weight",
        "rls-off",
        "view-definer-rights",
        "anon-grant",
        "no-primary-key",
        "unindexed-foreign-key",
        "duplicate-index",
        "run-without-samples",
        "sample-without-run",
        "finished-but-running",
        "stored-status-disagrees",
        "gate-missing-from-environment",
        "zero-min-samples",
        "synthetic-fallback-unflagged",
    ),
    "second": (
        "switch-not-flagged",
        "negative-weight",
        "zero-timeout",
        "negative-retries",
        "null-flag",
        "authenticated-grant",
        "unfinished-but-terminal",
        "negative-threshold",
        "no-min-samples",
        "synthetic-flag-without-fallback",
        "negative-tokens",
    ),
    "third": (
        "no-default",
        "wrong-summary-view",
        "plan-for-an-unknown-canary",
        "trigger-on-an-unknown-metric",
        "wrong-summary-v2-view",
        "gate-on-an-unknown-metric",
        "quarantine-without-reason-nor-environment",
        "infinite-cost",
    ),
}


def every_violation() -> dict[str, Violation]:
    return {
        **TELEMETRY_VIOLATIONS,
        **ROUTING_VIOLATIONS,
        **VIEW_VIOLATIONS,
        **{
            name: (statements(sql), expected)
            for name, (sql, expected) in SUPABASE_VIOLATIONS.items()
        },
        **{name: (statements(sql), expected) for name, (sql, expected) in EVAL_VIOLATIONS.items()},
    }


def test_every_violation_is_planted_once() -> None:
    planted = [name for group in PLANTED.values() for name in group]
    assert sorted(planted) == sorted(every_violation())


def test_every_data_test_passes_on_clean_data(built_db: ClonedDatabase) -> None:
    clean(built_db)
    # A foreign key with its index is no finding of the catalog tests.
    built_db.execute(SUPABASE_VIOLATIONS["unindexed-foreign-key"][0])
    built_db.execute(
        "create index defaults_last_change_idx on ai_provider_config_defaults (last_change_id)"
    )
    result = dbt_test(built_db)
    assert failing(result) == {}
    assert result.counts["pass"] >= 80


def test_every_data_test_fails_on_its_violations(server: Server, template: str) -> None:
    """Every data test fails in some planted database (and, above, passes on clean)."""
    violations = every_violation()
    for group, names in PLANTED.items():
        # one after the other under one name: dbt parses the project once, not per group
        with cloned_database(server, template, TEST_DATABASE) as db:
            clean(db)
            expected: dict[str, int] = {}
            for name in names:
                plant, fails = violations[name]
                plant(db)
                for test, rows in fails.items():
                    expected[test] = expected.get(test, 0) + rows
            assert failing(dbt_test(db)) == expected, group


def test_anon_and_authenticated_can_read_nothing(built_db: ClonedDatabase) -> None:
    # The template was built after Supabase-style default privileges granted the API
    # roles everything in public; the build revoked them.
    relations = [
        row[0]
        for row in built_db.execute(
            "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname = 'public' and c.relkind in ('r', 'v')"
            " and c.relname like 'ai\\_provider\\_config%'"
        )
    ]
    assert sorted(relations) == [
        "ai_provider_config_changes",
        "ai_provider_config_defaults",
        "ai_provider_configs",
    ]
    import psycopg

    for role in ("anon", "authenticated"):
        for relation in relations:
            with built_db.database.connect() as conn:
                conn.execute(f"set role {role}")
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(f"select * from public.{relation}").fetchall()
    # service_role (bypassrls) is what the edge function uses; it still reads the view.
    with built_db.database.connect() as conn:
        conn.execute("grant select on public.ai_provider_configs to service_role")
        conn.execute("set role service_role")
        assert len(conn.execute("select * from public.ai_provider_configs").fetchall()) == 4


def test_samples_need_their_run_and_runs_are_kept(built_db: ClonedDatabase) -> None:
    """The foreign key rejects samples of an unknown run, for INSERT and COPY alike;
    runs cannot be removed nor their run_id changed."""
    import psycopg

    ingest_examples(built_db)
    samples_before = built_db.execute("select count(*) from ai_eval_samples")[0][0]
    with built_db.database.connect() as conn:
        with pytest.raises(psycopg.errors.ForeignKeyViolation, match="no-such-run"):
            conn.execute(
                "insert into ai_eval_samples (run_id, sample_id, line_number, schema_valid,"
                " safety_html_tailwind_compliant) values ('no-such-run', 'x', 1, true, true)"
            )
        conn.rollback()
        with (
            pytest.raises(psycopg.errors.ForeignKeyViolation),
            conn.cursor().copy(
                "copy ai_eval_samples (run_id, sample_id, line_number, schema_valid,"
                " safety_html_tailwind_compliant) from stdin"
            ) as copy,
        ):
            copy.write_row(("no-such-run", "x", 1, True, True))
        conn.rollback()
    assert built_db.execute("select count(*) from ai_eval_samples")[0][0] == samples_before
    for statement in (
        "delete from ai_eval_runs",
        "truncate ai_eval_runs cascade",
        "update ai_eval_runs set run_id = run_id || '-renamed'",
    ):
        with pytest.raises(psycopg.errors.RestrictViolation):
            built_db.execute(statement)
    assert built_db.execute("select count(*) from ai_eval_runs")[0][0] == 2
    # An update that changes nothing is no rewrite.
    built_db.execute("update ai_eval_runs set metadata = metadata, run_id = run_id")


def test_a_rebuild_replaces_the_old_run_check_with_the_foreign_key(
    built_db: ClonedDatabase,
) -> None:
    """A plain table as a build before partitioning left it (its run_id checked by a
    statement trigger, no foreign key) gets the current triggers on the next build;
    its rows are untouched. (A partitioned one: test_trust.)"""
    ingest_examples(built_db)
    built_db.execute("alter table ai_eval_samples drop constraint ai_eval_samples_run_id_fkey")
    built_db.execute("drop trigger ai_eval_samples_run_is_open on ai_eval_samples")
    built_db.execute(
        "create function public.ai_eval_samples_check_run_exists() returns trigger"
        " language plpgsql as $$ begin return null; end $$;"
        " create trigger ai_eval_samples_run_exists after insert on ai_eval_samples"
        " referencing new table as inserted_samples"
        " for each statement execute function public.ai_eval_samples_check_run_exists()"
    )
    assert built_db.cli("build").returncode == 0
    triggers = built_db.execute(
        "select tgname from pg_trigger where tgrelid = 'ai_eval_samples'::regclass"
        " and not tgisinternal order by tgname"
    )
    assert triggers == [("ai_eval_samples_append_only",), ("ai_eval_samples_run_is_open",)]
    assert built_db.execute(
        "select to_regprocedure('public.ai_eval_samples_check_run_exists()') is null"
    ) == [(True,)]
    assert built_db.execute(
        "select count(*) from pg_constraint where conrelid = 'ai_eval_samples'::regclass"
        " and contype = 'f'"
    ) == [(1,)]
    assert built_db.execute("select count(distinct run_id) from ai_eval_samples")[0][0] == 2
