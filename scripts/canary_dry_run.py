"""Writes (or with --check, verifies) docs/rollout/canary-dry-run.md.

Runs on a throwaway embedded PostgreSQL: builds the project once into a template
database, then gives each scenario a fresh clone of it.

    .venv/bin/python scripts/canary_dry_run.py [--check]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from psycopg import conninfo, sql

from ai_gate.database import start_embedded, stop_embedded
from ai_gate_tools.dry_run import ACTOR, render

DOCUMENT = Path(__file__).resolve().parents[1] / "docs" / "rollout" / "canary-dry-run.md"
CLEAR = ("DATABASE_URL", "PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if the document is stale")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        admin = start_embedded(Path(directory))
        env = {k: v for k, v in os.environ.items() if k not in CLEAR}
        env["AI_GATE_ACTOR"] = ACTOR
        databases: dict[str, str] = {}

        def url(name: str) -> str:
            return conninfo.make_conninfo(**{**admin.params, "dbname": name})

        def cli(database: str, words: list[str]) -> tuple[int, str]:
            done = subprocess.run(
                [sys.executable, "-m", "ai_gate", *words],
                env={**env, "DATABASE_URL": url(database)},
                capture_output=True,
                text=True,
                check=False,
            )
            return done.returncode, done.stdout + (
                done.stderr if done.returncode in (1, 64) else ""
            )

        try:
            with admin.connect(autocommit=True) as conn:
                conn.execute("create database dry_run_template")
            for words in (["init-dev"], ["build"]):
                code, output = cli("dry_run_template", words)
                if code != 0:
                    sys.stderr.write(output)
                    return 1

            def run(scenario: str, words: list[str]) -> tuple[int, str]:
                if scenario not in databases:
                    name = f"dry_run_{scenario.replace('-', '_')}"
                    with admin.connect(autocommit=True) as conn:
                        conn.execute(
                            sql.SQL("create database {} template dry_run_template").format(
                                sql.Identifier(name)
                            )
                        )
                    databases[scenario] = name
                return cli(databases[scenario], words)

            document = render(run)
        finally:
            stop_embedded(Path(directory))
    if args.check:
        if not DOCUMENT.exists() or DOCUMENT.read_text() != document:
            sys.stderr.write(f"{DOCUMENT} is out of date: run scripts/canary_dry_run.py\n")
            return 1
        return 0
    DOCUMENT.parent.mkdir(parents=True, exist_ok=True)
    DOCUMENT.write_text(document)
    print(f"wrote {DOCUMENT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
