"""The issue's "done when", on the embedded default and on the server under test."""

from __future__ import annotations

from pathlib import Path

from conftest import ClonedDatabase, clean_environ, run_cli_process

from ai_gate.database import stop_embedded


def test_embedded_default_builds_and_keeps_a_flag_through_rebuilds(tmp_path: Path) -> None:
    # Real processes: each starts or finds the embedded server as a user's command does.
    # The flag change survives `build --full-refresh` (the change log is full_refresh=false).
    env = {**clean_environ(), "AI_GATE_DATA_DIR": str(tmp_path / "data")}
    try:
        built = run_cli_process(["build"], env)
        assert built.returncode == 0, built.stdout + built.stderr
        assert "from embedded" in built.stderr
        assert "created a Phase-1-shaped public.ai_training_examples" in built.stderr

        changed = run_cli_process(
            ["flags", "set", "custom", "--env", "prod", "--disable", "--reason", "drill"], env
        )
        assert changed.returncode == 0, changed.stderr
        assert "enabled true->false" in changed.stdout

        rebuilt = run_cli_process(["build", "--full-refresh"], env)
        assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
        shown = run_cli_process(["flags", "--env", "prod", "--json"], env)
        assert shown.returncode == 0, shown.stderr
        import json

        rows = {row["provider"]: row for row in json.loads(shown.stdout)}
        assert rows["custom"]["enabled"] is False
        assert rows["custom"]["last_change_reason"] == "drill"
        assert rows["openai"]["enabled"] is True and rows["openai"]["is_default"] is True
        # the change log keeps exactly its rows through --full-refresh (full_refresh=false)
        history = run_cli_process(["flags", "history", "--env", "prod", "--json"], env)
        assert [entry["reason"] for entry in json.loads(history.stdout)] == ["drill"]
    finally:
        stop_embedded(tmp_path / "data")


def test_configured_server_without_product_table_names_init_dev(empty_db: ClonedDatabase) -> None:
    result = empty_db.cli("build")
    assert result.returncode == 1
    assert "public.ai_training_examples does not exist" in result.stderr
    assert "ai-gate init-dev" in result.stderr
    # Nothing was created: the check runs before dbt.
    assert empty_db.execute(
        "select count(*) from pg_class where relname like 'ai_provider_config%'"
    ) == [(0,)]
    created = empty_db.cli("init-dev")
    assert created.returncode == 0, created.stderr
    assert empty_db.cli("init-dev").returncode == 0  # idempotent


def test_migration_keeps_existing_rows_and_inserts_without_new_columns(
    empty_db: ClonedDatabase,
) -> None:
    """The migration is idempotent, keeps the rows there, leaves a Phase 1 insert that
    names none of the new columns working, and builds again an index left invalid."""
    assert empty_db.cli("init-dev").returncode == 0
    empty_db.execute(
        "insert into ai_training_examples (prompt, generation) values ('old', '{\"html\": 1}')"
    )
    for _ in range(2):  # idempotent
        migrated = empty_db.cli("migrate")
        assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    # A Phase 1 insert that omits every new column still works.
    empty_db.execute("insert into ai_training_examples (prompt) values ('phase 1 writer')")
    rows = empty_db.execute(
        "select prompt, selected_provider, fallback_used from ai_training_examples order by prompt"
    )
    assert rows == [("old", None, None), ("phase 1 writer", None, None)]
    indexes = {
        row[0]
        for row in empty_db.execute(
            "select indexname from pg_indexes where tablename = 'ai_training_examples'"
        )
    }
    assert {
        "ai_training_examples_selected_provider_created_at_idx",
        "ai_training_examples_request_id_idx",
        "ai_training_examples_route_strategy_created_at_idx",
    } <= indexes
    invalid = empty_db.execute(
        "select count(*) from pg_index i join pg_class c on c.oid = i.indrelid "
        "where c.relname = 'ai_training_examples' and not i.indisvalid"
    )
    assert invalid == [(0,)]
    options = empty_db.execute(
        "select reloptions from pg_class where oid = 'public.ai_training_examples'::regclass"
    )
    assert sorted(options[0][0]) == [
        "autovacuum_vacuum_insert_scale_factor=0",
        "autovacuum_vacuum_insert_threshold=10000",
    ]
    # what an interrupted CREATE INDEX CONCURRENTLY leaves behind: the next migration
    # builds the index again
    empty_db.execute(
        "update pg_index set indisvalid = false where indexrelid = "
        "'public.ai_training_examples_request_id_idx'::regclass"
    )
    assert empty_db.cli("migrate").returncode == 0
    valid = empty_db.execute(
        "select i.indisvalid from pg_index i where indexrelid = "
        "'public.ai_training_examples_request_id_idx'::regclass"
    )
    assert valid == [(True,)]
