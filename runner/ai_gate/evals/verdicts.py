"""Verdicts: judge an ingested run against the gates (the dbt view
ai_eval_run_judgement), store its final status once, and read verdicts back.

A run's verdict is given once (the database's `eval_runs_guard` refuses a second);
a failure while judging marks the run `aborted`, and the next identical run judges it.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from datetime import datetime

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from ai_gate.database import Database, first_line
from ai_gate.errors import InputRejected, NotBuilt, RuntimeFailure
from ai_gate.evals import baseline
from ai_gate.evals.flakiness import CaseFlakiness, case_flakiness, errored_attempts, flake_rate
from ai_gate.evals.stored_runs import VERDICTS, fetch_run
from ai_gate.evals.thresholds import INTERVAL_METRICS, METRICS
from ai_gate.jsonable import JsonFields

TERMINAL_STATUSES = ("passed", "failed", "aborted")
# How long a run waits for a concurrent identical run (its run id, its verdict).
CONCURRENT_RUN_WAIT_SECONDS = 300.0


@dataclass(frozen=True)
class GateResult(JsonFields):
    gate: str
    metric: str
    comparator: str
    threshold: float
    observed: float | None
    status: str
    # under the confidence policy, the one-sided bounds the gate was judged on
    lower_bound: float | None = None
    upper_bound: float | None = None
    # the least evidence the gate judges on (0: a run judged before minimums existed)
    min_samples: int = 0


@dataclass(frozen=True)
class RunVerdict:
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
    triggered_by: str | None = None
    ci_job_id: str | None = None
    git_sha: str | None = None
    reused: bool = False  # its verdict was stored before: re-reported
    # ingested before by a run that did not finish (aborted): judged now
    rejudged: bool = False
    gate_policy: dict[str, object] | None = None
    baseline: dict[str, object] | None = None  # baseline.as_json, when compared
    # cases tried more than once by a provider (flakiness.py)
    flakiness: list[CaseFlakiness] = field(default_factory=list)
    error_count: int = 0  # samples that errored (an imported tool's failed attempts)
    errors: list[dict[str, object]] = field(default_factory=list)  # the first of them
    # how many samples' costs are recorded, priced or unknown (empty: judged before
    # costs were counted)
    cost_sources: dict[str, int] = field(default_factory=dict)

    @property
    def source(self) -> dict[str, object] | None:
        """Where an imported run's records came from (format, tool, version, eval id)."""
        return self.metadata.get("source")  # type: ignore[return-value]

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
            "source": self.source,
            "cost_sources": self.cost_sources,
            "error_count": self.error_count,
            "errors": self.errors,
            "flake_rate": flake_rate(self.flakiness),
            "flakiness": [case.as_json() for case in self.flakiness],
            "source_file": self.source_file,
            "source_sha256": self.source_sha256,
            "triggered_by": self.triggered_by,
            "ci_job_id": self.ci_job_id,
            "git_sha": self.git_sha,
            "metadata": self.metadata,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
        }


def judge(database: Database, run_id: str) -> RunVerdict:
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
                verdict: dict[str, object] = {
                    "summary": summary,
                    "gates": gates,
                    **_attempts(conn, database, run_id),
                }
                regressed = False
                if run[2] is not None:
                    comparison = baseline.as_json(
                        run[2], baseline.comparisons(conn, database, run[2], run_id)
                    )
                    verdict["baseline"] = comparison
                    regressed = bool(comparison["regressed"])
                status = run_status([gate["status"] for gate in gates], run[0], regressed)
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
    except (psycopg.Error, NotBuilt, KeyboardInterrupt) as exc:  # a view gone: not built
        _abort(database, run_id, exc)
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise RuntimeFailure(
            f"judging run {run_id} failed; it is marked aborted (run it again to judge it): "
            f"{first_line(str(exc))}"
        ) from exc
    return load_verdict(database, run_id)


def gate_fails(status: str, strict: bool) -> bool:
    """Whether a gate of this status fails its run: a failed gate does; under --strict,
    so does one that could not be judged (skipped, inconclusive). The one home of the
    strict rule: run_status and the JUnit report read it."""
    return status == "failed" or (strict and status in ("skipped", "inconclusive"))


def run_status(gate_statuses: list[str], strict: bool, regressed: bool) -> str:
    """A run's verdict from its gates: failed when a gate fails it (gate_fails) or the
    baseline comparison found a regression; inconclusive when a gate was, or when no
    gate was judged at all (every gate without data); passed otherwise. The dbt test
    assert_eval_run_status_matches_gates checks stored runs against the same rule, as
    an independent statement of it."""
    statuses = set(gate_statuses)
    if regressed or any(gate_fails(status, strict) for status in statuses):
        return "failed"
    if "inconclusive" in statuses or "passed" not in statuses:
        return "inconclusive"
    return "passed"


def _summary_and_gates(
    conn: psycopg.Connection, database: Database, run_id: str
) -> tuple[dict[str, object], list[dict[str, object]]]:
    """One run's summary (every metric of the registry: the long rows of
    ai_eval_run_summary v2, flattened to the verdict's keys) and gate rows, as
    JSON-ready dicts, from one read of ai_eval_run_judgement (so the summary, an
    aggregate over the run's samples, is computed once)."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            sql.SQL(
                "select metric, observed as value, observed_count as n, ci_low, ci_high,"
                " gate, comparator, threshold, min_samples, observed, lower_bound,"
                " upper_bound, status, samples.*"
                " from {} as judgement cross join ("
                " select count(*) as sample_count,"
                " count(*) filter (where cost_source = 'recorded') as recorded,"
                " count(*) filter (where cost_source = 'priced') as priced"
                " from {} where run_id = %(run_id)s) as samples"
                " where judgement.run_id = %(run_id)s order by gate"
            ).format(
                database.relation("ai_eval_run_judgement"), database.relation("ai_eval_samples")
            ),
            {"run_id": run_id},
        )
        judgement = cur.fetchall()
    rows = {row["metric"]: row for row in judgement}
    gate_keys = (
        "gate", "metric", "comparator", "threshold", "min_samples", "observed",
        "lower_bound", "upper_bound", "status",
    )  # fmt: skip
    gates = [
        {**{key: row[key] for key in gate_keys}, "threshold": float(row["threshold"])}
        for row in judgement
        if row["gate"] is not None
    ]
    first = next(iter(rows.values()), {})
    sample_count = int(first.get("sample_count") or 0)
    recorded, priced = int(first.get("recorded") or 0), int(first.get("priced") or 0)
    summary: dict[str, object] = {
        "sample_count": sample_count,
        # how each sample's cost is known (docs/cost.md); unknown: no cost, never free
        "cost_sources": {
            "recorded": recorded,
            "priced": priced,
            "unknown": sample_count - recorded - priced,
        },
    }
    for metric in METRICS:
        row = rows.get(metric, {})
        summary[metric] = row.get("value")
        summary[f"{metric}_count"] = row.get("n", 0)
        if metric in INTERVAL_METRICS:
            summary[f"{metric}_ci_low"] = row.get("ci_low")
            summary[f"{metric}_ci_high"] = row.get("ci_high")
    return summary, gates


def _attempts(conn: psycopg.Connection, database: Database, run_id: str) -> dict[str, object]:
    """The run's repeated cases and errored samples, for its verdict."""
    count, listed = errored_attempts(conn, database, run_id)
    return {
        "flakiness": [case.as_json() for case in case_flakiness(conn, database, run_id)],
        "error_count": count,
        "errors": listed,
    }


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
        row = conn.execute(
            sql.SQL(
                # Synthetic runs (ai-gate simulate) are never "the latest verdict".
                "select run_id from {} where not is_synthetic"
                " and (%(env)s::text is null or environment = %(env)s)"
                " order by started_at desc, run_id desc limit 1"
            ).format(database.relation("ai_eval_runs")),
            {"env": environment},
        ).fetchone()
    if row is None:
        where = f" for environment {environment!r}" if environment else ""
        raise InputRejected(f"no evaluation runs{where} (synthetic runs do not count)")
    return str(row[0])


def load_verdict(database: Database, run_id: str) -> RunVerdict:
    """A run's verdict: from the snapshot stored when it was judged, else (a run not
    judged yet, or aborted) computed from the views."""
    with database.connect() as conn:
        run = fetch_run(conn, database, run_id)
        if run is None:
            raise InputRejected(f"no evaluation run {run_id!r}")
        verdict = run.get("verdict")
        if not verdict:
            summary, gates = _summary_and_gates(conn, database, run_id)
            verdict = {"summary": summary, "gates": gates, **_attempts(conn, database, run_id)}
        summary, gates = verdict["summary"], verdict["gates"]
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
                int(g.get("min_samples") or 0),
            )
            for g in gates
        ),
        key=lambda gate: (METRICS.index(gate.metric), gate.gate),
    )
    return RunVerdict(
        run_id=run["run_id"],
        status=run["status"],
        environment=run["environment"],
        run_type=run["run_type"],
        strict=run["strict"],
        sample_count=int(summary.get("sample_count") or 0),
        metrics={metric: summary.get(metric) for metric in METRICS},
        metric_counts={metric: int(summary.get(f"{metric}_count") or 0) for metric in METRICS},
        intervals={
            m: (summary.get(f"{m}_ci_low"), summary.get(f"{m}_ci_high")) for m in INTERVAL_METRICS
        },
        cost_sources=dict(summary.get("cost_sources") or {}),
        gates=results,
        thresholds={k: (None if v is None else float(v)) for k, v in run["thresholds"].items()},
        source_file=run["source_file"],
        source_sha256=run["source_sha256"],
        started_at=run["started_at"].isoformat(),
        finished_at=run["finished_at"].isoformat() if run["finished_at"] else None,
        metadata=dict(run["metadata"] or {}),
        triggered_by=run["triggered_by"],
        ci_job_id=run["ci_job_id"],
        git_sha=run["git_sha"],
        gate_policy=run.get("gate_policy"),
        baseline=verdict.get("baseline"),
        flakiness=[CaseFlakiness.from_json(case) for case in verdict.get("flakiness") or []],
        error_count=int(verdict.get("error_count") or 0),
        errors=list(verdict.get("errors") or []),
    )


@dataclass(frozen=True)
class GateHistoryRow:
    """One gate of one judged run, as it was judged (the run's stored verdict)."""

    run_id: str
    started_at: datetime
    run_status: str
    gate: str
    metric: str
    comparator: str
    threshold: float | None
    observed: float | None
    status: str
    # the bounds the gate was judged on (confidence policy), else, for a rate, the
    # summary's 95% Wilson interval; None for a point-policy latency gate
    low: float | None
    high: float | None


def gate_history(
    database: Database,
    environment: str,
    *,
    since: datetime | None = None,
    runs: int | None = None,
    run_ids: list[str] | None = None,
) -> list[GateHistoryRow]:
    """Every gate of the environment's judged, real runs (started at or after `since`;
    the last `runs` of them; those of `run_ids`), oldest run first, gates by name. Read
    from each run's
    verdict snapshot in one query; a run judged before snapshots were stored (none
    since 2026-11-25) is read from the views."""
    with database.connect() as conn:
        judged = conn.execute(
            sql.SQL(
                "select run_id, started_at, status, verdict from ("
                " select run_id, started_at, status, verdict from {runs}"
                " where environment = %(env)s and not is_synthetic"
                " and status in ('passed', 'failed', 'inconclusive')"
                " and (%(since)s::timestamptz is null or started_at >= %(since)s)"
                " and (%(ids)s::text[] is null or run_id = any(%(ids)s))"
                " order by started_at desc, run_id desc limit %(runs)s"
                ") as newest order by started_at, run_id"
            ).format(runs=database.relation("ai_eval_runs")),
            {"env": environment, "since": since, "runs": runs, "ids": run_ids},
        ).fetchall()
        rows = []
        for run_id, started_at, run_status, verdict in judged:
            if verdict:
                summary, gates = verdict["summary"], verdict["gates"]
            else:
                summary, gates = _summary_and_gates(conn, database, run_id)
            for gate in sorted(gates, key=lambda g: g["gate"]):
                low, high = gate.get("lower_bound"), gate.get("upper_bound")
                if low is None and high is None and gate["metric"] in INTERVAL_METRICS:
                    low = summary.get(f"{gate['metric']}_ci_low")
                    high = summary.get(f"{gate['metric']}_ci_high")
                rows.append(
                    GateHistoryRow(
                        run_id=run_id,
                        started_at=started_at,
                        run_status=run_status,
                        gate=gate["gate"],
                        metric=gate["metric"],
                        comparator=gate["comparator"],
                        threshold=gate["threshold"],
                        observed=gate["observed"],
                        status=gate["status"],
                        low=low,
                        high=high,
                    )
                )
    return rows


def recent_gate_history(
    database: Database, environment: str, runs: int = 10
) -> list[tuple[str, dict[str, tuple[float | None, str]]]]:
    """The last `runs` judged, real runs of the environment, oldest first: each run id
    with every gate's (observed, status)."""
    history: dict[str, dict[str, tuple[float | None, str]]] = {}
    for row in gate_history(database, environment, runs=runs):
        history.setdefault(row.run_id, {})[row.gate] = (row.observed, row.status)
    return list(history.items())
