"""Times one `ai-gate init-dev` + `ai-gate build` into a fresh database on the server
the environment names (else a throwaway embedded PostgreSQL), as the yardstick the
test suite's duration is measured against (scripts/test.sh). Prints the seconds.

Usage: python scripts/time_build.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

from ai_gate.database import Database, resolve_database, start_embedded, stop_embedded

CONNECTION_VARS = ("DATABASE_URL", "PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE")


def timed_build(server: Database, folder: Path) -> float:
    name = f"ai_gate_build_time_{uuid.uuid4().hex[:8]}"
    with server.connect(autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    env = {k: v for k, v in os.environ.items() if k not in CONNECTION_VARS}
    env["DATABASE_URL"] = psycopg.conninfo.make_conninfo(**{**server.params, "dbname": name})
    # its own dbt artifacts, as the suite's (a fresh parse, as the suite's first build)
    env["DBT_TARGET_PATH"] = str(folder / "target")
    env["DBT_LOG_PATH"] = str(folder / "logs")
    try:
        started = time.perf_counter()
        for command in (["init-dev"], ["build"]):
            subprocess.run(
                [sys.executable, "-m", "ai_gate", *command],
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        return time.perf_counter() - started
    finally:
        with server.connect(autocommit=True) as conn:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
            )


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="ai-gate-build-time-"))
    try:
        if any(os.environ.get(name) for name in CONNECTION_VARS):
            seconds = timed_build(resolve_database(), folder)
        else:
            server = start_embedded(folder / "pg")
            try:
                seconds = timed_build(server, folder)
            finally:
                stop_embedded(folder / "pg")
        print(f"{seconds:.1f}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
