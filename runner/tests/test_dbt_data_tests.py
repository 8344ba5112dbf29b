"""Every dbt data test we wrote fails on violating data and passes on clean data.

Each scenario starts from a freshly built database, introduces one kind of
violation and runs the whole group of tests: exactly the expected ones must fail.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ClonedDatabase

from ai_gate.dbt_project import DbtResult, run_dbt

CUTOVER = "2026-01-01 00:00:00+00"
TELEMETRY_TESTS = "source:product.ai_training_examples"
ROUTING_TESTS = "ai_provider_configs ai_provider_config_defaults"
SUPABASE_TESTS = "path:tests/supabase"


def dbt_test(db: ClonedDatabase, selection: str) -> DbtResult:
    result = run_dbt(
        db.database,
        ["test", "--select", *selection.split(), "--vars", f"{{telemetry_cutover: '{CUTOVER}'}}"],
    )
    assert isinstance(result, DbtResult)
    errors = [p for p in result.problems if p.status != "fail"]
    assert not errors, [p.render() for p in errors]  # a test must fail, never error
    assert result.counts.get("pass", 0) + result.counts.get("fail", 0) > 0, result.output_tail
    return result


def failing(result: DbtResult) -> set[str]:
    return {problem.unique_id.split(".")[2] for problem in result.problems}


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
    # Served by the requested provider.
    {
        "created_at": "2026-03-01 00:00:00+00",
        "request_id": "r1",
        "requested_provider": "openai",
        "selected_provider": "openai",
        "route_strategy": "weighted",
        "fallback_used": False,
        "latency_ms": 900,
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
    },
]


def test_telemetry_tests_pass_on_clean_data(built_db: ClonedDatabase) -> None:
    for row in CLEAN_GENERATIONS:
        insert_generation(built_db, **row)
    result = dbt_test(built_db, TELEMETRY_TESTS)
    assert failing(result) == set()
    assert result.counts["pass"] >= 5


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (  # a new record without selected_provider
            {"created_at": "2026-03-02 00:00:00+00", "requested_provider": "openai"},
            {"selected_provider_set_since_cutover"},
        ),
        (  # fallback provider recorded, fallback_used false
            {
                "created_at": "2026-03-02 00:00:00+00",
                "requested_provider": "custom",
                "selected_provider": "openai",
                "fallback_provider": "openai",
                "fallback_used": False,
            },
            {"fallback_executions_set_fallback_used"},
        ),
        (  # served by another provider than requested, fallback_used missing
            {
                "created_at": "2026-03-02 00:00:00+00",
                "requested_provider": "custom",
                "selected_provider": "openai",
            },
            {"fallback_executions_set_fallback_used"},
        ),
        (  # fallback_used without a fallback provider
            {
                "created_at": "2026-03-02 00:00:00+00",
                "requested_provider": "openai",
                "selected_provider": "openai",
                "fallback_used": True,
            },
            {"fallback_used_names_a_fallback_provider"},
        ),
    ],
    ids=["missing-selected", "fallback-not-flagged", "switch-not-flagged", "flag-without-fallback"],
)
def test_telemetry_tests_fail_on_violations(
    built_db: ClonedDatabase, row: dict[str, object], expected: set[str]
) -> None:
    for clean in CLEAN_GENERATIONS:
        insert_generation(built_db, **clean)
    insert_generation(built_db, **row)
    assert failing(dbt_test(built_db, TELEMETRY_TESTS)) == expected


def test_selected_provider_test_ignores_rows_before_the_cutover(built_db: ClonedDatabase) -> None:
    insert_generation(built_db, created_at="2025-12-31 23:59:59+00", requested_provider="openai")
    assert failing(dbt_test(built_db, TELEMETRY_TESTS)) == set()


CHANGE_ROW = (
    "insert into ai_provider_config_changes (change_set_id, provider, environment, enabled,"
    " is_default, weight, timeout_ms, max_retries, reason, changed_by, before_values)"
    " values (gen_random_uuid(), %s, %s, %s, %s, %s, 30000, 1, 'test', 'test', '{}')"
)

ROUTING_VIOLATIONS: dict[str, tuple[Callable[[ClonedDatabase], None], set[str]]] = {
    # Written in SQL, bypassing the CLI's checks: the dbt tests are the second line.
    "two-defaults": (
        lambda db: db.execute(CHANGE_ROW, ("custom", "prod", True, True, 1)),
        {"exactly_one_enabled_default_per_environment"},
    ),
    "no-default": (
        lambda db: db.execute(CHANGE_ROW, ("openai", "prod", False, True, 99)),
        {"exactly_one_enabled_default_per_environment"},
    ),
    "no-weight": (
        lambda db: [
            db.execute(CHANGE_ROW, (p, "staging", True, p == "openai", 0))
            for p in ("openai", "custom")
        ],
        {"an_enabled_provider_with_weight_per_environment"},
    ),
    "negative-weight": (
        lambda db: db.execute(
            "update ai_provider_config_defaults set weight = -1 where provider = 'custom'"
        ),
        {"expression_is_true_ai_provider_configs_weight___0"},
    ),
    "zero-timeout": (
        lambda db: db.execute(
            "update ai_provider_config_defaults set timeout_ms = 0 where provider = 'custom'"
        ),
        {"expression_is_true_ai_provider_configs_timeout_ms___0"},
    ),
    "negative-retries": (
        lambda db: db.execute(
            "update ai_provider_config_defaults set max_retries = -1 where provider = 'openai'"
        ),
        {"expression_is_true_ai_provider_configs_max_retries___0"},
    ),
    "null-flag": (
        lambda db: db.execute(
            "update ai_provider_config_defaults set enabled = null where provider = 'custom'"
        ),
        {"not_null_ai_provider_configs_enabled", "not_null_ai_provider_config_defaults_enabled"},
    ),
}


def test_routing_tests_pass_on_the_seeded_configuration(built_db: ClonedDatabase) -> None:
    result = dbt_test(built_db, ROUTING_TESTS)
    assert failing(result) == set()
    assert result.counts["pass"] >= 12


@pytest.mark.parametrize("scenario", sorted(ROUTING_VIOLATIONS))
def test_routing_tests_fail_on_violations(built_db: ClonedDatabase, scenario: str) -> None:
    violate, expected = ROUTING_VIOLATIONS[scenario]
    violate(built_db)
    assert failing(dbt_test(built_db, ROUTING_TESTS)) == expected


SUPABASE_VIOLATIONS: dict[str, tuple[str, set[str]]] = {
    "rls-off": (
        "alter table ai_provider_config_defaults disable row level security",
        {"assert_tables_have_row_level_security"},
    ),
    "view-definer-rights": (
        "alter view ai_provider_configs reset (security_invoker)",
        {"assert_views_use_security_invoker"},
    ),
    "anon-grant": (
        "grant select on ai_provider_config_changes to anon",
        {"assert_api_roles_have_no_privileges"},
    ),
    "authenticated-grant": (
        "grant insert on ai_provider_config_defaults to authenticated",
        {"assert_api_roles_have_no_privileges"},
    ),
    "no-primary-key": (
        "alter table ai_provider_config_defaults drop constraint ai_provider_config_defaults_pkey",
        {"assert_tables_have_primary_key"},
    ),
    "unindexed-foreign-key": (
        "alter table ai_provider_config_defaults add column last_change_id bigint"
        " references ai_provider_config_changes (change_id)",
        {"assert_foreign_keys_are_indexed"},
    ),
    "duplicate-index": (
        "create index extra_change_set_idx on ai_provider_config_changes (change_set_id)",
        {"assert_no_duplicate_indexes"},
    ),
}


def test_supabase_tests_pass_after_build(built_db: ClonedDatabase) -> None:
    result = dbt_test(built_db, SUPABASE_TESTS)
    assert failing(result) == set()
    assert result.counts["pass"] == 6


def test_indexed_foreign_key_passes(built_db: ClonedDatabase) -> None:
    built_db.execute(SUPABASE_VIOLATIONS["unindexed-foreign-key"][0])
    built_db.execute(
        "create index defaults_last_change_idx on ai_provider_config_defaults (last_change_id)"
    )
    assert failing(dbt_test(built_db, SUPABASE_TESTS)) == set()


@pytest.mark.parametrize("scenario", sorted(SUPABASE_VIOLATIONS))
def test_supabase_tests_fail_on_violations(built_db: ClonedDatabase, scenario: str) -> None:
    statement, expected = SUPABASE_VIOLATIONS[scenario]
    built_db.execute(statement)
    assert failing(dbt_test(built_db, SUPABASE_TESTS)) == expected


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


EVAL_TESTS = (
    "ai_eval_runs ai_eval_samples ai_eval_run_summary_v1 ai_eval_gate_results"
    " ai_eval_thresholds ai_eval_gate_definitions path:tests/evals"
)
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "evals"

EVAL_VIOLATIONS: dict[str, tuple[str, set[str]]] = {
    "run-without-samples": (
        "insert into ai_eval_runs (run_id, run_type, environment, triggered_by, thresholds,"
        " strict, status, finished_at, source_file, source_sha256)"
        " values ('empty-run', 'offline', 'prod', 'test', '{}', false, 'passed', now(),"
        " 'x.jsonl', repeat('0', 64))",
        {"every_eval_run_has_samples"},
    ),
    "sample-without-run": (
        # A partition for the missing run, and the trigger that rejects such a row
        # switched off, to plant it.
        "do $$ begin"
        " create table orphan_samples partition of ai_eval_samples"
        " for values in ('no-such-run');"
        # hardened as the runner's partitions are, or the catalog tests fail too
        " alter table orphan_samples enable row level security;"
        " revoke all on orphan_samples from anon, authenticated;"
        " alter table ai_eval_samples disable trigger ai_eval_samples_run_exists;"
        " insert into ai_eval_samples (run_id, sample_id, line_number, schema_valid,"
        " safety_html_tailwind_compliant) values ('no-such-run', 'x', 1, true, true);"
        " alter table ai_eval_samples enable trigger ai_eval_samples_run_exists;"
        " end $$",
        {"every_eval_sample_belongs_to_a_run"},
    ),
    "finished-but-running": (
        "update ai_eval_runs set status = 'running' where source_file = 'passing.jsonl'",
        {"finished_eval_runs_have_a_terminal_status"},
    ),
    "unfinished-but-terminal": (
        "update ai_eval_runs set finished_at = null where source_file = 'passing.jsonl'",
        {"finished_eval_runs_have_a_terminal_status"},
    ),
    "stored-status-disagrees": (
        "update ai_eval_runs set status = 'passed' where source_file = 'failing.jsonl'",
        {"assert_eval_run_status_matches_gates"},
    ),
    "negative-threshold": (
        "update ai_eval_thresholds set threshold = -1"
        " where environment = 'staging' and gate = 'fallback_rate_max'",
        {"eval_thresholds_are_not_negative"},
    ),
    "gate-missing-from-environment": (
        "delete from ai_eval_thresholds"
        " where environment = 'staging' and gate = 'fallback_rate_max'",
        {"every_environment_lists_every_gate"},
    ),
}


def ingest_examples(db: ClonedDatabase) -> None:
    assert db.cli("run", str(EXAMPLES / "passing.jsonl")).returncode == 0
    assert db.cli("run", str(EXAMPLES / "failing.jsonl")).returncode == 2


def test_eval_tests_pass_on_ingested_runs(built_db: ClonedDatabase) -> None:
    ingest_examples(built_db)
    result = dbt_test(built_db, EVAL_TESTS)
    assert failing(result) == set()
    assert result.counts["pass"] >= 15


@pytest.mark.parametrize("scenario", sorted(EVAL_VIOLATIONS))
def test_eval_tests_fail_on_violations(built_db: ClonedDatabase, scenario: str) -> None:
    ingest_examples(built_db)
    statement, expected = EVAL_VIOLATIONS[scenario]
    built_db.execute(statement)
    assert failing(dbt_test(built_db, EVAL_TESTS)) == expected


def test_summary_test_catches_a_wrong_view(built_db: ClonedDatabase) -> None:
    """A regression in the summary view (p95 computed as the median) is caught."""
    ingest_examples(built_db)
    definition = built_db.execute("select pg_get_viewdef('ai_eval_run_summary_v1'::regclass)")
    broken = definition[0][0].replace("percentile_cont((0.95)", "percentile_cont((0.5)")
    assert broken != definition[0][0]
    built_db.execute(
        f"create or replace view ai_eval_run_summary_v1 with (security_invoker = true) as {broken}"
    )
    assert failing(dbt_test(built_db, EVAL_TESTS)) == {"assert_eval_summary_matches_samples"}


def test_samples_need_their_run_and_runs_are_kept(built_db: ClonedDatabase) -> None:
    """The run check that replaced the foreign key rejects what the key rejected, for
    INSERT and COPY alike; runs cannot be removed nor their run_id changed."""
    import psycopg

    ingest_examples(built_db)
    samples_before = built_db.execute("select count(*) from ai_eval_samples")[0][0]
    with built_db.database.connect() as conn:
        # A run that has no partition has no place for samples at all.
        with pytest.raises(psycopg.errors.CheckViolation, match="no partition"):
            conn.execute(
                "insert into ai_eval_samples (run_id, sample_id, line_number, schema_valid,"
                " safety_html_tailwind_compliant) values ('no-such-run', 'x', 1, true, true)"
            )
        conn.rollback()
        # Given one, made by hand, the run check still rejects samples of a run that
        # is not in ai_eval_runs.
        conn.execute(
            "create table orphan_samples partition of ai_eval_samples for values in ('no-such-run')"
        )
        conn.commit()
        with pytest.raises(psycopg.errors.ForeignKeyViolation, match="'no-such-run'"):
            conn.execute(
                "insert into ai_eval_samples (run_id, sample_id, line_number, schema_valid,"
                " safety_html_tailwind_compliant)"
                " select run_id, 'extra', 1, true, true from ai_eval_runs"
                " union all select 'no-such-run', 'x', 1, true, true"
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
    # Updating anything else, as judging does, is allowed.
    built_db.execute("update ai_eval_runs set metadata = metadata, run_id = run_id")


def test_a_rebuild_replaces_the_old_foreign_key(built_db: ClonedDatabase) -> None:
    """A database built when run_id was a foreign key loses the key on the next build
    and gets the run check; its rows are untouched."""
    ingest_examples(built_db)
    built_db.execute("drop trigger ai_eval_samples_run_exists on ai_eval_samples")
    built_db.execute(
        "alter table ai_eval_samples add constraint ai_eval_samples_run_id_fkey"
        " foreign key (run_id) references ai_eval_runs (run_id)"
    )
    assert built_db.cli("build").returncode == 0
    constraints = built_db.execute(
        "select conname from pg_constraint"
        " where conrelid = 'ai_eval_samples'::regclass and contype = 'f'"
    )
    assert constraints == []
    triggers = built_db.execute(
        "select tgname from pg_trigger where tgrelid = 'ai_eval_samples'::regclass"
        " and not tgisinternal order by tgname"
    )
    assert triggers == [("ai_eval_samples_append_only",), ("ai_eval_samples_run_exists",)]
    assert built_db.execute("select count(distinct run_id) from ai_eval_samples")[0][0] == 2


PARTITIONS = (
    "select c.relname, pg_get_expr(c.relpartbound, c.oid) from pg_inherits i"
    " join pg_class c on c.oid = i.inhrelid"
    " where i.inhparent = 'ai_eval_samples'::regclass order by 1"
)


def test_each_run_is_a_hardened_guarded_partition(built_db: ClonedDatabase) -> None:
    """`ai-gate run` stores a run's samples as a partition of ai_eval_samples that the
    API roles cannot read (the template's Supabase-style default privileges granted
    them the new table), with RLS on and the append-only guard; the catalog tests
    cover partitions and fail when one is exposed."""
    import psycopg

    ingest_examples(built_db)
    runs = {row[0] for row in built_db.execute("select run_id from ai_eval_runs")}
    partitions = built_db.execute(PARTITIONS)
    assert {bound for _, bound in partitions} == {f"FOR VALUES IN ('{run}')" for run in runs}
    for name, _ in partitions:
        assert built_db.execute(
            "select relrowsecurity from pg_class where oid = %s::regclass", (name,)
        ) == [(True,)]
        for role in ("anon", "authenticated"):
            assert built_db.execute(
                "select has_table_privilege(%s, %s::regclass, 'select, insert, delete')",
                (role, name),
            ) == [(False,)]
        for statement in (
            f"delete from {name}",
            f"update {name} set case_id = 'x'",
            f"truncate {name}",
        ):
            with pytest.raises(psycopg.errors.RestrictViolation, match="append-only"):
                built_db.execute(statement)
    assert failing(dbt_test(built_db, SUPABASE_TESTS)) == set()
    exposed = partitions[0][0]
    built_db.execute(f"grant select on {exposed} to anon")
    built_db.execute(f"alter table {exposed} disable row level security")
    assert failing(dbt_test(built_db, SUPABASE_TESTS)) == {
        "assert_api_roles_have_no_privileges",
        "assert_tables_have_row_level_security",
    }


def _make_samples_a_plain_table(db: ClonedDatabase) -> None:
    """ai_eval_samples as a build before partitioning left it: a plain table with its
    primary key, hardened for Supabase, with its two statement-level triggers."""
    db.execute(
        "create table plain_samples (like ai_eval_samples including all);"
        " insert into plain_samples select * from ai_eval_samples;"
        " drop table ai_eval_samples cascade;"
        " alter table plain_samples rename to ai_eval_samples;"
        " alter index plain_samples_pkey rename to ai_eval_samples_pkey;"
        " alter table ai_eval_samples enable row level security;"
        " revoke all on ai_eval_samples from anon, authenticated;"
        " create trigger ai_eval_samples_append_only"
        " before update or delete or truncate on ai_eval_samples"
        " for each statement execute function public.ai_eval_samples_reject_mutation();"
        " create trigger ai_eval_samples_run_exists after insert on ai_eval_samples"
        " referencing new table as inserted_samples"
        " for each statement execute function public.ai_eval_samples_check_run_exists()"
    )


@pytest.mark.parametrize("with_runs", [True, False], ids=["with-runs", "empty"])
def test_a_rebuild_partitions_a_plain_samples_table(
    built_db: ClonedDatabase, with_runs: bool
) -> None:
    """A database built before samples were partitioned by run: the runner refuses
    to write into it (and writes nothing), the next build converts the table and keeps
    every row, and the old runs stay readable, guarded and judged as before."""
    import psycopg

    if with_runs:
        ingest_examples(built_db)
    summary = "select * from ai_eval_run_summary_v1 order by run_id"
    summaries_before = built_db.execute(summary)
    _make_samples_a_plain_table(built_db)
    assert built_db.execute(
        "select relkind from pg_class where oid = 'ai_eval_samples'::regclass"
    ) == [("r",)]

    refused = built_db.cli("run", str(EXAMPLES / "passing.jsonl"), "--run-id", "too-early")
    assert refused.returncode == 1, refused.stderr
    assert "not partitioned by run yet: run `ai-gate build`" in refused.stderr
    assert built_db.execute("select count(*) from ai_eval_runs where run_id = 'too-early'") == [
        (0,)
    ]
    assert built_db.execute(
        "select count(*) from pg_class where relname like 'ai\\_eval\\_samples\\_%'"
        " and relkind = 'r'"
    ) == [(0,)]

    assert built_db.cli("build").returncode == 0
    assert built_db.execute(
        "select relkind from pg_class where oid = 'ai_eval_samples'::regclass"
    ) == [("p",)]
    assert built_db.execute(summary) == summaries_before
    partitions = built_db.execute(PARTITIONS)
    if with_runs:
        assert [name for name, _ in partitions] == ["ai_eval_samples_before_partitioning"]
        with pytest.raises(psycopg.errors.RestrictViolation):
            built_db.execute("delete from ai_eval_samples_before_partitioning")
    else:
        assert partitions == []
        assert built_db.execute(
            "select to_regclass('ai_eval_samples_before_partitioning') is null"
        ) == [(True,)]
    assert built_db.cli("run", str(EXAMPLES / "passing.jsonl"), "--run-id", "after").returncode == 0
    assert len(built_db.execute(PARTITIONS)) == len(partitions) + 1
    assert failing(dbt_test(built_db, f"{EVAL_TESTS} {SUPABASE_TESTS}")) == set()
