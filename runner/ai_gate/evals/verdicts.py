"""Verdicts: judge an ingested run against the gates (the dbt view
ai_eval_gate_results), store its final status once, and read verdicts back.

A run's verdict is given once (the database's `eval_runs_guard` refuses a second);
a failure while judging marks the run `aborted`, and the next identical run judges it.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from ai_gate.database import Database, first_line
from ai_gate.errors import InputRejected, RuntimeFailure
from ai_gate.evals import baseline
from ai_gate.evals.thresholds import METRICS, RATE_METRICS, not_built

# A run's final statuses: a verdict, given once (aborted is retried, not a verdict).
VERDICTS = ("passed", "failed", "inconclusive")
TERMINAL_STATUSES = ("passed", "failed", "aborted")
# How long a run waits for a concurrent identical run (its run id, its verdict).
CONCURRENT_RUN_WAIT_SECONDS = 300.0


@dataclass(frozen=True)
class GateResult:
    gate: str
    metric: str
    comparator: str
    threshold: float
    observed: float | None
    status: str
    # under the confidence policy, the one-sided bounds the gate was judged on
    lower_bound: float | None = None
    upper_bound: float | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "gate": self.gate,
            "metric": self.metric,
            "comparator": self.comparator,
            "threshold": self.threshold,
            "observed": self.observed,
            "lower_bound": self.lower_bound,
            "upper_bound": self.upper_bound,
            "status": self.status,
        }


@dataclass(frozen=True)
class EvalReport:
    """A stored run's verdict, read back from the database (all outputs use this)."""

    run_id: str
    status: str
    environment: str
    run_type: str
    strict: bool
    sample_count: int
    metrics: dict[str, float | None]
    metric_counts: dict[str, int]
    intervals: dict[str, tuple[float | None, float | None]]
    gates: list[GateResult]
    thresholds: dict[str, float | None]
    source_file: str
    source_sha256: str
    started_at: str
    finished_at: str | None
    metadata: dict[str, object]
    reused: bool = False
    gate_policy: dict[str, object] | None = None
    baseline: dict[str, object] | None = None  # baseline.as_json, when compared

    def as_json(self) -> dict[str, object]:
        return {
            "run_id": self.run_id,
            "status": self.status,
            "environment": self.environment,
            "run_type": self.run_type,
            "strict": self.strict,
            "sample_count": self.sample_count,
            "metrics": {metric: self.metrics.get(metric) for metric in METRICS},
            "metric_counts": {metric: self.metric_counts.get(metric, 0) for metric in METRICS},
            "confidence_intervals": {
                metric: {"low": low, "high": high} for metric, (low, high) in self.intervals.items()
            },
            "gate_policy": self.gate_policy or {"policy": "point"},
            "baseline": self.baseline,
            "gates": [gate.as_json() for gate in self.gates],
            "gates_switched_off": sorted(k for k, v in self.thresholds.items() if v is None),
            "source_file": self.source_file,
            "source_sha256": self.source_sha256,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
        }


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


def judge(database: Database, run_id: str) -> EvalReport:
    """Record the terminal status the gate results imply, with a snapshot of the
    summary and gate rows it was decided from (so `check` reads one row); `aborted`
    if that fails or is interrupted. The run row is locked first: of two processes
    judging one run, the second waits and reports the first one's verdict."""
    try:
        with database.connect() as conn, conn.transaction():
            conn.execute(f"set local lock_timeout = '{int(CONCURRENT_RUN_WAIT_SECONDS)}s'")
            run = conn.execute(
                sql.SQL(
                    "select strict, status, baseline_run_id from {} where run_id = %s for update"
                ).format(database.relation("ai_eval_runs")),
                (run_id,),
            ).fetchone()
            assert run is not None
            if run[1] not in VERDICTS:
                summary, gates = _summary_and_gates(conn, database, run_id)
                verdict: dict[str, object] = {"summary": summary, "gates": gates}
                regressed = False
                if run[2] is not None:
                    comparison = baseline.as_json(
                        run[2], baseline.comparisons(conn, database, run[2], run_id)
                    )
                    verdict["baseline"] = comparison
                    regressed = bool(comparison["regressed"])
                statuses = {gate["status"] for gate in gates}
                if "failed" in statuses or (run[0] and "skipped" in statuses) or regressed:
                    status = "failed"
                elif "inconclusive" in statuses:
                    status = "inconclusive"
                else:
                    status = "passed"
                conn.execute(
                    sql.SQL(
                        "update {} set status = %s, finished_at = clock_timestamp(),"
                        " verdict = %s where run_id = %s"
                    ).format(database.relation("ai_eval_runs")),
                    (status, json.dumps(verdict), run_id),
                )
    except psycopg.errors.LockNotAvailable as exc:
        raise RuntimeFailure(
            f"run {run_id} is being judged by another process; gave up waiting after "
            f"{CONCURRENT_RUN_WAIT_SECONDS:g} s (check it later: ai-gate check --run-id {run_id})"
        ) from exc
    except (psycopg.Error, KeyboardInterrupt) as exc:
        _abort(database, run_id, exc)
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise RuntimeFailure(
            f"judging run {run_id} failed; it is marked aborted (run it again to judge it): "
            f"{first_line(str(exc))}"
        ) from exc
    return load_report(database, run_id)


def _summary_and_gates(
    conn: psycopg.Connection, database: Database, run_id: str
) -> tuple[dict[str, object], list[dict[str, object]]]:
    """One run's summary row and gate rows, from the dbt views, as JSON-ready dicts.
    The gate view is computed from the summary row, so it is computed once here."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            sql.SQL("select * from {} where run_id = %s").format(
                database.relation("ai_eval_run_summary_v1")
            ),
            (run_id,),
        )
        summary = cur.fetchone() or {}
        cur.execute(
            sql.SQL(
                "select gate, metric, comparator, threshold, observed, lower_bound, upper_bound,"
                " status from {}"
                " where run_id = %s order by gate"
            ).format(database.relation("ai_eval_gate_results")),
            (run_id,),
        )
        gates = [{**gate, "threshold": float(gate["threshold"])} for gate in cur.fetchall()]
    keep = (
        "sample_count",
        *(f"{metric}{suffix}" for metric in METRICS for suffix in ("", "_count")),
        *(f"{m}_ci_{bound}" for m in RATE_METRICS for bound in ("low", "high")),
    )
    return {key: summary.get(key) for key in keep}, gates


def _abort(database: Database, run_id: str, exc: BaseException) -> None:
    error = f"{type(exc).__name__}: {exc}".strip()
    try:
        with database.connect() as conn, conn.transaction():
            conn.execute(
                sql.SQL(
                    "update {} set status = 'aborted', finished_at = clock_timestamp(),"
                    " metadata = metadata || jsonb_build_object('error', %s::text)"
                    " where run_id = %s and status = 'running'"
                ).format(database.relation("ai_eval_runs")),
                (error, run_id),
            )
    except Exception as abort_error:  # the database may be what failed; say so, keep going
        sys.stderr.write(f"ai-gate: could not mark run {run_id} aborted: {abort_error}\n")


# --- reading verdicts back ---------------------------------------------------------------


def latest_run_id(database: Database, environment: str | None) -> str:
    with database.connect() as conn:
        try:
            row = conn.execute(
                sql.SQL(
                    # Synthetic runs (ai-gate simulate) are never "the latest verdict".
                    "select run_id from {} where not is_synthetic"
                    " and (%(env)s::text is null or environment = %(env)s)"
                    " order by started_at desc, run_id desc limit 1"
                ).format(database.relation("ai_eval_runs")),
                {"env": environment},
            ).fetchone()
        except psycopg.errors.UndefinedTable as exc:
            raise not_built(database, exc) from exc
    if row is None:
        where = f" for environment {environment!r}" if environment else ""
        raise InputRejected(f"no evaluation runs{where} (synthetic runs do not count)")
    return str(row[0])


def load_report(database: Database, run_id: str) -> EvalReport:
    """A run's verdict: from the snapshot stored when it was judged, else (a run not
    judged yet, or aborted) computed from the views."""
    with database.connect() as conn:
        try:
            run = fetch_run(conn, database, run_id)
            if run is None:
                raise InputRejected(f"no evaluation run {run_id!r}")
            verdict = run.get("verdict")
            if verdict:
                summary, gates = verdict["summary"], verdict["gates"]
            else:
                summary, gates = _summary_and_gates(conn, database, run_id)
        except psycopg.errors.UndefinedTable as exc:
            raise not_built(database, exc) from exc
    results = sorted(
        (
            GateResult(
                g["gate"],
                g["metric"],
                g["comparator"],
                float(g["threshold"]),
                g["observed"],
                g["status"],
                g.get("lower_bound"),
                g.get("upper_bound"),
            )
            for g in gates
        ),
        key=lambda gate: (METRICS.index(gate.metric), gate.gate),
    )
    return EvalReport(
        run_id=run["run_id"],
        status=run["status"],
        environment=run["environment"],
        run_type=run["run_type"],
        strict=run["strict"],
        sample_count=int(summary.get("sample_count") or 0),
        metrics={metric: summary.get(metric) for metric in METRICS},
        metric_counts={metric: int(summary.get(f"{metric}_count") or 0) for metric in METRICS},
        intervals={
            m: (summary.get(f"{m}_ci_low"), summary.get(f"{m}_ci_high")) for m in RATE_METRICS
        },
        gates=results,
        thresholds={k: (None if v is None else float(v)) for k, v in run["thresholds"].items()},
        source_file=run["source_file"],
        source_sha256=run["source_sha256"],
        started_at=run["started_at"].isoformat(),
        finished_at=run["finished_at"].isoformat() if run["finished_at"] else None,
        metadata=dict(run["metadata"] or {}),
        gate_policy=run.get("gate_policy"),
        baseline=(verdict or {}).get("baseline"),
    )


def recent_gate_history(
    database: Database, environment: str, runs: int = 10
) -> list[tuple[str, dict[str, tuple[float | None, str]]]]:
    """The last `runs` judged, real runs of the environment, oldest first: each run id
    with every gate's (observed, status). Run by run: the gate view aggregates samples
    per run, and a filter on one run id is pushed into that aggregate."""
    with database.connect() as conn:
        run_ids = [
            row[0]
            for row in conn.execute(
                sql.SQL(
                    "select run_id from {} where environment = %s and not is_synthetic"
                    " and status in ('passed', 'failed', 'inconclusive')"
                    " order by started_at desc, run_id desc limit %s"
                ).format(database.relation("ai_eval_runs")),
                (environment, runs),
            ).fetchall()
        ]
        history = []
        for run_id in reversed(run_ids):
            gates = conn.execute(
                sql.SQL("select gate, observed, status from {} where run_id = %s").format(
                    database.relation("ai_eval_gate_results")
                ),
                (run_id,),
            ).fetchall()
            history.append((run_id, {gate: (observed, status) for gate, observed, status in gates}))
    return history
