"""A stored eval run's row, and the one rule for naming a run as evidence (a baseline
to compare with, the canary's quality run): it exists, is of the environment asked
about, is not synthetic unless dry runs are asked for, and, where it must be, has a
verdict or is of a run type."""

from __future__ import annotations

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from ai_gate.database import Database
from ai_gate.errors import InputRejected

VERDICTS = ("passed", "failed", "inconclusive")


def fetch_run(
    conn: psycopg.Connection, database: Database, run_id: str
) -> dict[str, object] | None:
    """The ai_eval_runs row of one run, or None."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            sql.SQL("select * from {} where run_id = %s").format(database.relation("ai_eval_runs")),
            (run_id,),
        )
        return cur.fetchone()


def require_run(
    conn: psycopg.Connection,
    database: Database,
    run_id: str,
    *,
    option: str,
    environment: str,
    synthetic_allowed: bool = False,
    judged: bool = False,
    run_type: str | None = None,
    why: str = "",
) -> dict[str, object]:
    """The row of the run `option` names, refused (InputRejected, nothing written) when
    it is not evidence for `environment`; `why` ends each refusal with what the caller
    needs the run for."""
    reason = f": {why}" if why else ""
    row = fetch_run(conn, database, run_id)
    if row is None:
        raise InputRejected(f"{option}: no evaluation run {run_id!r}")
    if row["environment"] != environment:
        raise InputRejected(
            f"{option}: run {run_id!r} is of environment {row['environment']!r}, not "
            f"{environment!r}{reason}"
        )
    if row["is_synthetic"] and not synthetic_allowed:
        raise InputRejected(f"{option}: run {run_id!r} is synthetic (ai-gate simulate){reason}")
    if judged and row["status"] not in VERDICTS:
        raise InputRejected(f"{option}: run {run_id!r} has no verdict (status {row['status']})")
    if run_type is not None and row["run_type"] != run_type:
        raise InputRejected(
            f"{option}: run {run_id!r} is of run type {row['run_type']!r}, not {run_type!r}{reason}"
        )
    return row
