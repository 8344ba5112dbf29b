"""What a canary decision reads of the eval samples, per arm: the quality of the
samples it served (every rate metric of the registry), from canary evidence only: eval
runs of the environment decided for, of run type `canary` (production samples,
scored). Offline and scheduled suites are not samples of the traffic the canary serves:
they are left out, and named (`ignored_eval_runs`)."""

from __future__ import annotations

from datetime import datetime

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from ai_gate.database import Database, fetch_one
from ai_gate.evals.metrics import rate_sample_fields
from ai_gate.rollout.arms import Arms

# The eval runs that are evidence about the canary: production samples, scored.
CANARY_EVIDENCE_RUN_TYPE = "canary"


def quality_arm(
    conn: psycopg.Connection,
    database: Database,
    provider: str,
    start: datetime | None,
    end: datetime | None,
    run_id: str | None,
    scope: dict[str, object],
) -> dict[str, object]:
    """Quality of one arm: samples it served, from the canary evidence of the
    environment only (and not synthetic unless asked for)."""
    where = quality_window(run_id)
    # per rate metric of the registry: how many samples carry its field, and how
    # many of those are true
    rates = sql.SQL("").join(
        sql.SQL(
            " count(samples.{field}) as {trials}, count(*) filter (where samples.{field})"
        ).format(field=sql.Identifier(field), trials=sql.Identifier(f"{metric}:trials"))
        + sql.SQL(" as {},").format(sql.Identifier(metric))
        for metric, field in rate_sample_fields().items()
    )
    return fetch_one(
        conn,
        sql.SQL(
            "select count(*) as eval_samples,{}"
            " count(*) filter (where runs.is_synthetic) as synthetic_samples"
            " from {} as samples inner join {} as runs on samples.run_id = runs.run_id"
            " where samples.selected_provider = %(provider)s"
            " and runs.environment = %(environment)s and runs.run_type = %(evidence)s"
            " and (%(synthetic)s or not runs.is_synthetic) and {}"
        ).format(
            rates,
            database.relation("ai_eval_samples"),
            database.relation("ai_eval_runs"),
            where,
        ),
        {
            "provider": provider,
            "start": start,
            "end": end,
            "run_id": run_id,
            "evidence": CANARY_EVIDENCE_RUN_TYPE,
            **scope,
        },
    )


def quality_window(run_id: str | None) -> sql.Composable:
    """Which samples are the quality arms': one run's, or those of the window."""
    if run_id is not None:
        return sql.SQL("samples.run_id = %(run_id)s")
    # created_at is optional in a record: a sample without one ran when its run did
    return sql.SQL(
        "coalesce(samples.created_at, runs.started_at) >= %(start)s"
        " and coalesce(samples.created_at, runs.started_at) < %(end)s"
    )


def window_eval_runs(
    conn: psycopg.Connection,
    database: Database,
    arms: Arms,
    start: datetime,
    end: datetime,
    run_id: str | None,
    scope: dict[str, object],
    *,
    evidence: bool,
) -> list[dict[str, object]]:
    """The environment's eval runs with samples of either arm that a decision read or
    left out, each with its run type and those samples' count: evidence=True, the runs
    its quality arms read (canary evidence of the window, or the one run given); False,
    those of the window that are not canary evidence (none when a run was given)."""
    if run_id is not None and not evidence:
        return []
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            sql.SQL(
                "select runs.run_id, runs.run_type, count(*) as samples"
                " from {} as samples inner join {} as runs on samples.run_id = runs.run_id"
                " where samples.selected_provider = any(%(providers)s)"
                " and runs.environment = %(environment)s and {}"
                " and (%(synthetic)s or not runs.is_synthetic) and {}"
                " group by runs.run_id, runs.run_type order by runs.run_id"
            ).format(
                database.relation("ai_eval_samples"),
                database.relation("ai_eval_runs"),
                sql.SQL(
                    "runs.run_type = %(evidence)s" if evidence else "runs.run_type <> %(evidence)s"
                ),
                quality_window(run_id),
            ),
            {
                "providers": [arms.canary, arms.baseline],
                "start": start,
                "end": end,
                "run_id": run_id,
                "evidence": CANARY_EVIDENCE_RUN_TYPE,
                **scope,
            },
        )
        return cur.fetchall()
