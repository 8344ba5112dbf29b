"""Fixtures: a real PostgreSQL server, a built template database, fresh clones of it.

The server is the one DATABASE_URL (or the PG* variables) names, else an embedded
PostgreSQL started for the session. `ai-gate build` runs once into a template
database; each test gets its own database cloned from it (CREATE DATABASE ...
TEMPLATE), so tests never see each other's rows.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from ai_gate.cli import main
from ai_gate.database import Database, resolve_database, start_embedded, stop_embedded

SUPABASE_ROLES = ("anon", "authenticated", "service_role")
CONNECTION_VARS = (
    "DATABASE_URL",
    "PGHOST",
    "PGHOSTADDR",
    "PGPORT",
    "PGUSER",
    "PGPASSWORD",
    "PGDATABASE",
)


@dataclass(frozen=True)
class Server:
    admin: Database  # a maintenance database on the server under test
    embedded_dir: Path | None

    def database(self, name: str) -> Database:
        return Database({**self.admin.params, "dbname": name}, "test", schema="public")

    def url(self, name: str) -> str:
        params = {**self.admin.params, "dbname": name}
        return psycopg.conninfo.make_conninfo(**params)

    def create_database(self, name: str, template: str | None = None) -> None:
        with self.admin.connect(autocommit=True) as conn:
            statement = sql.SQL("create database {}").format(sql.Identifier(name))
            if template:
                statement += sql.SQL(" template {}").format(sql.Identifier(template))
            conn.execute(statement)

    def drop_database(self, name: str) -> None:
        with self.admin.connect(autocommit=True) as conn:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
            )


@dataclass(frozen=True)
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def run_cli(args: list[str], env: dict[str, str]) -> CliResult:
    """Run the `ai-gate` command in this process, as sqlite-utils' tests run theirs
    (click's CliRunner): `main(args)` with `env` as the whole environment and stdout and
    stderr captured. The same code as the installed command, without the half second
    an interpreter start and the imports cost; run_cli_process is the real process."""
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("run_cli swaps the process environment: use run_cli_process")
    saved = dict(os.environ)
    stdout, stderr = io.StringIO(), io.StringIO()
    os.environ.clear()
    os.environ.update(env)
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                code = main(args)
            except SystemExit as exc:  # argparse's --help and --version
                if isinstance(exc.code, str):
                    stderr.write(exc.code + "\n")
                code = exc.code if isinstance(exc.code, int) else (1 if exc.code else 0)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return CliResult(code, stdout.getvalue(), stderr.getvalue())


def run_cli_process(args: list[str], env: dict[str, str], timeout: float = 300) -> CliResult:
    """Run the installed command in its own process: for what only a process shows
    (signals, threads running commands at once, the embedded server it starts)."""
    completed = subprocess.run(
        [sys.executable, "-m", "ai_gate", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return CliResult(completed.returncode, completed.stdout, completed.stderr)


def clean_environ() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CONNECTION_VARS}
    env.pop("AI_GATE_SCHEMA", None)
    return env


@pytest.fixture(scope="session", autouse=True)
def own_dbt_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """dbt's artifacts and logs go to this session's own folder (DBT_TARGET_PATH and
    DBT_LOG_PATH, which every CLI the tests start inherits), never the checkout's
    target/: a developer's `ai-gate build` and the suite cannot disturb each other."""
    folder = tmp_path_factory.mktemp("dbt")
    saved = {name: os.environ.get(name) for name in ("DBT_TARGET_PATH", "DBT_LOG_PATH")}
    os.environ["DBT_TARGET_PATH"] = str(folder / "target")
    os.environ["DBT_LOG_PATH"] = str(folder / "logs")
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    if any(os.environ.get(name) for name in CONNECTION_VARS):
        yield Server(resolve_database(), None)
        return
    # Not under pytest's basetemp: pytest deletes old basetemp folders when another
    # session of the same user starts, and a server whose data folder vanishes dies.
    directory = Path(tempfile.mkdtemp(prefix="ai-gate-test-pg-"))
    admin = start_embedded(directory)
    try:
        yield Server(admin, directory)
    finally:
        stop_embedded(directory)
        shutil.rmtree(directory, ignore_errors=True)


def create_supabase_roles(server: Server) -> None:
    """Supabase's API roles are cluster-wide; create them like Supabase does."""
    with server.admin.connect(autocommit=True) as conn:
        for role in SUPABASE_ROLES:
            exists = conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone()
            if not exists:
                options = " bypassrls" if role == "service_role" else ""
                # another test worker may create it in the meantime
                with contextlib.suppress(
                    psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation
                ):
                    conn.execute(
                        sql.SQL("create role {} nologin" + options).format(sql.Identifier(role))
                    )


def mimic_supabase_grants(database: Database) -> None:
    """Supabase grants the API roles everything on new relations in public by default."""
    with database.connect(autocommit=True) as conn:
        conn.execute("grant usage on schema public to anon, authenticated, service_role")
        conn.execute(
            "alter default privileges in schema public "
            "grant all on tables to anon, authenticated, service_role"
        )


@pytest.fixture(scope="session")
def template(server: Server) -> Iterator[str]:
    name = f"ai_gate_tpl_{uuid.uuid4().hex[:10]}"
    server.create_database(name)
    try:
        create_supabase_roles(server)
        mimic_supabase_grants(server.database(name))
        env = {**clean_environ(), "DATABASE_URL": server.url(name)}
        init = run_cli(["init-dev"], env)
        assert init.returncode == 0, init.stderr
        built = run_cli(["build"], env)
        assert built.returncode == 0, built.stdout + built.stderr
        yield name
    finally:
        server.drop_database(name)


@dataclass(frozen=True)
class ClonedDatabase:
    name: str
    database: Database
    env: dict[str, str]

    def cli(self, *args: str) -> CliResult:
        return run_cli(list(args), self.env)

    def cli_process(self, *args: str) -> CliResult:
        return run_cli_process(list(args), self.env)

    def execute(self, statement: str, params: tuple | None = None) -> list[tuple]:
        with self.database.connect(autocommit=True) as conn:
            cursor = conn.execute(statement, params)
            return cursor.fetchall() if cursor.description else []


# The one name of every test's own database in this worker (built_db, rolled_up_db):
# dbt's partial parse is keyed on the profile, database name included, so a name that
# stays the same lets each dbt invocation after the first skip parsing the project.
TEST_DATABASE = f"ai_gate_t_{uuid.uuid4().hex[:10]}"


@contextmanager
def cloned_database(
    server: Server, template: str, name: str | None = None
) -> Iterator[ClonedDatabase]:
    """A fresh database with the project built, cloned from the template."""
    name = name or f"ai_gate_c_{uuid.uuid4().hex[:10]}"
    server.create_database(name, template=template)
    try:
        env = {**clean_environ(), "DATABASE_URL": server.url(name)}
        yield ClonedDatabase(name, server.database(name), env)
    finally:
        server.drop_database(name)


@pytest.fixture
def built_db(server: Server, template: str) -> Iterator[ClonedDatabase]:
    """A fresh database with the project built, cloned from the template."""
    with cloned_database(server, template, TEST_DATABASE) as db:
        yield db


@pytest.fixture
def built_db_factory(server: Server, template: str) -> Iterator[Callable[[], ClonedDatabase]]:
    """Makes fresh databases cloned from the template, as many as a test needs."""
    names: list[str] = []

    def make() -> ClonedDatabase:
        name = f"ai_gate_t_{uuid.uuid4().hex[:10]}"
        server.create_database(name, template=template)
        names.append(name)
        env = {**clean_environ(), "DATABASE_URL": server.url(name)}
        return ClonedDatabase(name, server.database(name), env)

    try:
        yield make
    finally:
        for name in names:
            server.drop_database(name)


def load_generations(db: ClonedDatabase, rows: int = 60_000, days: int = 12) -> None:
    """Log-normal latencies, two providers about 90/10, spread over `days` (seeded)."""
    with db.database.connect() as conn:
        conn.execute("select setseed(0.42)")
        conn.execute(
            "insert into ai_training_examples (created_at, requested_provider,"
            " selected_provider, latency_ms, fallback_used)"
            " select now() - random() * make_interval(days => %s),"
            " p, p, greatest(0, exp(8.4 + 0.55 * sqrt(-2 * ln(random()))"
            " * cos(2 * pi() * random())))::int, false"
            " from (select case when random() < 0.9 then 'openai' else 'custom' end as p"
            " from generate_series(1, %s)) as providers",
            (days, rows),
        )
        # Usage drawn after the latencies, so these stay the draws they were: most rows
        # priced from their tokens, some with a recorded cost, some of a model the seed
        # has no price for, some without tokens (unknown cost unless recorded).
        conn.execute(
            "update ai_training_examples set"
            " model = case when random() < 0.05 then 'unpriced-model'"
            " when selected_provider = 'openai' then 'gpt-4o' else 'sitegen-custom-v1' end,"
            " input_tokens = case when random() < 0.03 then null"
            " else (400 + random() * 1600)::int end,"
            " output_tokens = (300 + exp(7 + 0.6 * random()))::int,"
            " cost_usd = case when random() < 0.04 then round((random() / 20)::numeric, 6) end,"
            " fallback_used = random() < 0.02"
        )
        conn.execute(
            "update ai_training_examples set output_tokens = null where input_tokens is null"
        )


def refresh(db: ClonedDatabase) -> None:
    """The latency rollups' refresh, as the daily build does it."""
    result = db.cli("build", "--select", "telemetry")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="session")
def rolled_up_template(server: Server, template: str) -> Iterator[str]:
    """A template database: the project built, then 12 days of generations (60,000)
    loaded and rolled up once; the tests that need rolled-up telemetry clone it (one
    xdist group, "rolled_up", so one worker makes it)."""
    with cloned_database(server, template, f"ai_gate_rolled_{uuid.uuid4().hex[:10]}") as db:
        load_generations(db)
        refresh(db)
        yield db.name


@pytest.fixture
def rolled_up_db(server: Server, rolled_up_template: str) -> Iterator[ClonedDatabase]:
    """A fresh database with the project built and 12 days of telemetry rolled up."""
    with cloned_database(server, rolled_up_template, TEST_DATABASE) as db:
        yield db


@pytest.fixture
def empty_db(server: Server) -> Iterator[ClonedDatabase]:
    name = f"ai_gate_e_{uuid.uuid4().hex[:10]}"
    server.create_database(name)
    try:
        env = {**clean_environ(), "DATABASE_URL": server.url(name)}
        yield ClonedDatabase(name, server.database(name), env)
    finally:
        server.drop_database(name)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests that share a fixture built once per worker are one xdist_group; if the
    grouping silently stopped (pytest-dev/pytest-xdist#1386), each worker would build
    it again. pytest-xdist marks a grouped test's node id with "@group"."""
    grouped = getattr(item.config.option, "loadgroup", False)
    if grouped and item.get_closest_marker("xdist_group") and "@" not in item.nodeid:
        pytest.fail(
            "--dist=loadgroup did not group this test: this pytest and pytest-xdist do not "
            "work together (pytest-dev/pytest-xdist#1386); install from constraints.txt",
            pytrace=False,
        )


def pytest_report_header(config: pytest.Config) -> str:
    configured = any(os.environ.get(name) for name in CONNECTION_VARS)
    return "database: " + (
        "the server DATABASE_URL / PG* name" if configured else "an embedded PostgreSQL"
    )
