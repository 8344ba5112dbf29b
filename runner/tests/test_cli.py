"""The command line: help, usage errors, database resolution and failures."""

from __future__ import annotations

import argparse

import pytest
from conftest import clean_environ, run_cli

from ai_gate.cli import build_parser


def all_command_paths() -> list[list[str]]:
    paths: list[list[str]] = [[]]

    def walk(parser: argparse.ArgumentParser, prefix: list[str]) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    paths.append([*prefix, name])
                    walk(sub, [*prefix, name])

    walk(build_parser(), [])
    return paths


@pytest.mark.parametrize("path", all_command_paths(), ids=lambda p: " ".join(p) or "ai-gate")
def test_every_command_has_help_with_exit_codes(path: list[str]) -> None:
    result = run_cli([*path, "--help"], clean_environ())
    assert result.returncode == 0, result.stderr
    assert "usage: ai-gate" in result.stdout
    assert "64  usage error" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["no-such-command"],
        ["flags", "set", "custom", "--env", "prod", "--disable"],  # no --reason
        ["flags", "set", "custom", "--env", "prod", "--enable", "--disable", "--reason", "x"],
        ["flags", "set", "custom", "--env", "prod", "--reason", "nothing asked"],
        ["flags", "set", "custom", "--env", "prod", "--weight", "ten", "--reason", "x"],
        ["flags", "history", "--limit", "many"],
        ["db"],
        ["exec"],
    ],
)
def test_usage_errors_exit_64_not_argparse_2(args: list[str]) -> None:
    # No database is configured or reachable: usage errors are caught before any connection.
    env = {**clean_environ(), "DATABASE_URL": "postgresql://nobody:pw@127.0.0.1:1/none"}
    result = run_cli(args, env)
    assert result.returncode == 64, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr


def test_unreachable_database_exits_1_and_hides_the_password() -> None:
    env = {**clean_environ(), "DATABASE_URL": "postgresql://gate:s3cr3t-pw@127.0.0.1:1/ai_gate"}
    for args in (["flags"], ["build"], ["flags", "history"]):
        result = run_cli(args, env)
        assert result.returncode == 1, (args, result.stderr)
        assert "cannot connect to gate@127.0.0.1:1/ai_gate" in result.stderr
        assert "s3cr3t-pw" not in result.stderr + result.stdout
        assert "Traceback" not in result.stderr


def test_pg_variables_are_used_when_there_is_no_database_url() -> None:
    env = {
        **clean_environ(),
        "PGHOST": "127.0.0.1",
        "PGPORT": "1",
        "PGUSER": "someone",
        "PGPASSWORD": "hidden-pw",
        "PGDATABASE": "elsewhere",
    }
    result = run_cli(["flags"], env)
    assert result.returncode == 1
    assert "someone@127.0.0.1:1/elsewhere" in result.stderr
    assert "from PG* environment variables" in result.stderr
    assert "hidden-pw" not in result.stderr


MIGRATION_SCRIPT = "\n".join(
    [
        "-- ai-gate: Phase 2 telemetry migration for public.ai_training_examples",
        "-- Idempotent. Run outside a transaction block: CREATE INDEX CONCURRENTLY needs that.",
        "-- If a concurrent build was interrupted, drop the INVALID index it left first:",
        "--   drop index concurrently if exists public.<index name>;",
        "",
        "begin;",
        "set local lock_timeout = '5s';",
        "alter table public.ai_training_examples",
        "    add column if not exists request_id text,",
        "    add column if not exists requested_provider text,",
        "    add column if not exists selected_provider text,",
        "    add column if not exists route_strategy text,",
        "    add column if not exists fallback_provider text,",
        "    add column if not exists fallback_used boolean,",
        "    add column if not exists latency_ms integer,",
        "    add column if not exists prompt_template_version text,",
        "    add column if not exists model text,",
        "    add column if not exists input_tokens integer,",
        "    add column if not exists output_tokens integer,",
        "    add column if not exists cost_usd double precision;",
        "alter table public.ai_training_examples set (",
        "    autovacuum_vacuum_insert_threshold = 10000,",
        "    autovacuum_vacuum_insert_scale_factor = 0",
        ");",
        "commit;",
        "",
        "create index concurrently if not exists"
        " ai_training_examples_selected_provider_created_at_idx"
        " on public.ai_training_examples (selected_provider, created_at desc)"
        " include (latency_ms);",
        "",
        "create index concurrently if not exists ai_training_examples_request_id_idx"
        " on public.ai_training_examples (request_id);",
        "",
        "create index concurrently if not exists ai_training_examples_route_strategy_created_at_idx"
        " on public.ai_training_examples (route_strategy, created_at desc);",
        "",
    ]
)


def test_migrate_print_needs_no_database_and_prints_the_operation_sql() -> None:
    """Rendered from the migration's own macros, without dbt or a database: exactly the
    statements `migrate_ai_training_examples` runs."""
    env = {**clean_environ(), "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    result = run_cli(["migrate", "--print"], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == MIGRATION_SCRIPT
    other = run_cli(["migrate", "--print", "--vars", "{product_schema: product}"], env)
    assert other.stdout == MIGRATION_SCRIPT.replace("public.", "product.")


def test_every_option_says_what_it_is_and_its_default() -> None:
    """Each option of every command has a description, and one with a default names it."""
    import argparse

    from ai_gate.cli import build_parser

    missing = []

    def walk(parser: argparse.ArgumentParser, name: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub_name, sub in action.choices.items():
                    walk(sub, f"{name} {sub_name}")
            elif action.option_strings and action.dest not in ("help", "version"):
                text = action.help or ""
                shown = action.default in (None, False) or "default" in text or "skips" in text
                if not text or not shown:
                    missing.append(f"{name} {'/'.join(action.option_strings)}")

    walk(build_parser(), "ai-gate")
    assert missing == []
