"""Replay: every stored eval run of a window judged again from its stored samples,
under the policy it stored or under a proposed one, beside the verdict it stored; and
every stored canary decision of the window re-derived under its stored policy
(rollout/decision_replay.py).

Read-only by construction: one read-only, repeatable-read transaction (one snapshot
for the whole replay; the database refuses any write). The judging rules are the
gate view's (the function ai_eval_replay_judgement shares the macro that defines
ai_eval_run_judgement), and a run's status is `verdicts.run_status` of its gates, so
a run replayed under its stored policy must come out as stored: one that does not is
a discrepancy between the record and the data.

A baseline comparison's regression (a `--baseline` run) is taken as stored: it
compares the run's samples with its baseline's, which no threshold proposal changes.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from ai_gate.database import Database
from ai_gate.errors import InputRejected
from ai_gate.evals.stored_runs import VERDICTS
from ai_gate.evals.thresholds import (
    gate_metrics,
    gate_policy,
    load_threshold_overrides,
    threshold_values,
)
from ai_gate.evals.verdicts import run_status
from ai_gate.files import NestedMapping, read_yaml_mapping
from ai_gate.jsonable import JsonFields
from ai_gate.rollout.decision_replay import (
    ReplayedDecision,
    proposed_guardrails,
    replay_decisions,
)
from ai_gate.rollout.rollout_replay import RolloutReplay, replay_rollouts


@dataclass(frozen=True)
class Proposal:
    """A proposed policy for the window's runs: gate thresholds laid over each run's
    stored snapshot (None: switched off), as `ai-gate run --thresholds` lays them over
    the environment's seeds; minimum sample counts laid over each run's; and a
    confidence for every run (None: each keeps its own; `point` True: every run on
    point estimates)."""

    thresholds: dict[str, float | None] = field(default_factory=dict)
    confidence: float | None = None
    min_samples: dict[str, int] = field(default_factory=dict)
    point: bool = False
    # the canary's guardrails, laid over each stored decision's snapshot
    canary: dict[str, object] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return {
            "thresholds": self.thresholds,
            "min_samples": self.min_samples,
            "confidence": "point" if self.point else self.confidence,
            "canary": self.canary,
        }


# The sections of a --policy file (docs/replay.md).
POLICY_SECTIONS = ("thresholds", "min_samples", "confidence", "canary")


def load_policy_file(path: Path, known_gates: dict[str, str]) -> Proposal:
    """A --policy file: `thresholds` (gate: number or null), `min_samples` (gate: a
    whole number >= 1), `confidence` (between 0.5 and 1, or `point`), `canary` (the
    canary's guardrails); each section optional, every problem named with its file
    and line."""
    label = str(path)
    problems: list[str] = []
    proposal: dict[str, object] = {}
    for section, value, line in read_yaml_mapping(
        path, ", ".join(POLICY_SECTIONS), "policy", nested=True
    ):
        if section == "confidence":
            if value == "point":
                proposal["point"] = True
            elif isinstance(value, bool) or not isinstance(value, int | float):
                problems.append(f"{label}:{line}: confidence: a number between 0.5 and 1, or point")
            elif not 0.5 < value < 1:
                problems.append(
                    f"{label}:{line}: confidence: must be between 0.5 and 1, got {value}"
                )
            else:
                proposal["confidence"] = float(value)
        elif section not in POLICY_SECTIONS:
            known = ", ".join(POLICY_SECTIONS)
            problems.append(f"{label}:{line}: {section}: unknown section (known: {known})")
        elif not isinstance(value, NestedMapping):
            problems.append(f"{label}:{line}: {section}: a mapping of name to value")
        elif section == "canary":
            proposal["canary"] = proposed_guardrails(value, label, problems)
        elif section == "thresholds":
            proposal["thresholds"] = threshold_values(value, label, known_gates, problems)
        else:
            proposal["min_samples"] = _minimums(value, label, known_gates, problems)
    if problems:
        raise InputRejected(f"{label}: policy rejected", problems)
    return Proposal(**proposal)  # type: ignore[arg-type]


def _minimums(
    entries: list[tuple[str, object, int]],
    label: str,
    known_gates: dict[str, str],
    problems: list[str],
) -> dict[str, int]:
    minimums: dict[str, int] = {}
    for gate, value, line in entries:
        if gate not in known_gates:
            problems.append(
                f"{label}:{line}: {gate}: unknown gate (known: {', '.join(known_gates)})"
            )
        elif isinstance(value, bool) or not isinstance(value, int) or value < 1:
            problems.append(f"{label}:{line}: {gate}: must be a whole number >= 1, got {value!r}")
        else:
            minimums[gate] = value
    return minimums


@dataclass(frozen=True)
class ReplayedGate(JsonFields):
    JSON_PROPERTIES = ("changed",)

    gate: str
    metric: str
    stored_threshold: float | None  # None: the gate was off, or stored no verdict
    replayed_threshold: float | None  # None: off under the replayed policy
    stored_status: str | None
    replayed_status: str | None
    observed: float | None

    @property
    def changed(self) -> bool:
        return self.stored_status != self.replayed_status


@dataclass(frozen=True)
class ReplayedRun:
    run_id: str
    run_type: str
    started_at: datetime
    strict: bool
    stored_status: str
    replayed_status: str
    gates: list[ReplayedGate]

    @property
    def changed(self) -> bool:
        return self.stored_status != self.replayed_status or any(g.changed for g in self.gates)

    def as_json(self) -> dict[str, object]:
        return {
            "run_id": self.run_id,
            "run_type": self.run_type,
            "started_at": self.started_at.isoformat(),
            "strict": self.strict,
            "stored_status": self.stored_status,
            "replayed_status": self.replayed_status,
            "changed": self.changed,
            "gates": [gate.as_json() for gate in self.gates],
        }


@dataclass(frozen=True)
class RunsReplay:
    environment: str
    start: datetime
    end: datetime
    proposal: Proposal | None  # None: each run under the policy it stored
    runs: list[ReplayedRun]  # changed first, then newest first
    unjudged_runs: int  # running or aborted: no verdict to replay
    # the stored canary decisions of the window, each re-derived under its stored
    # policy (a proposal changes eval gates only), newest first
    decisions: list[ReplayedDecision] = field(default_factory=list)
    # under proposed guardrails: each rollout's time to go, stored beside proposed
    rollouts: list[RolloutReplay] = field(default_factory=list)

    @property
    def changed(self) -> list[ReplayedRun]:
        return [run for run in self.runs if run.changed]

    @property
    def transitions(self) -> list[tuple[str, str, int]]:
        """(stored, replayed, runs) for each change of a run's status, most first."""
        counts = Counter(
            (run.stored_status, run.replayed_status)
            for run in self.runs
            if run.stored_status != run.replayed_status
        )
        return [(old, new, n) for (old, new), n in sorted(counts.items(), key=lambda i: -i[1])]

    @property
    def discrepancies(self) -> list[ReplayedRun]:
        """Under the stored policies every run must be judged as stored."""
        return self.changed if self.proposal is None else []

    @property
    def decisions_changed(self) -> list[ReplayedDecision]:
        """Decisions the proposed guardrails would have made otherwise."""
        return [decision for decision in self.decisions if decision.changed]

    @property
    def decision_discrepancies(self) -> list[ReplayedDecision]:
        return [decision for decision in self.decisions if decision.discrepancies]


def read_proposal(
    database: Database,
    thresholds_file: Path | None,
    confidence: float | None,
    policy_file: Path | None = None,
) -> Proposal | None:
    """The proposal `--thresholds` and `--confidence`, or `--policy`, make (None: none
    given). The thresholds file is the one `ai-gate run --thresholds` takes, checked as
    it checks it; a policy file's thresholds section likewise."""
    if thresholds_file is None and confidence is None and policy_file is None:
        return None
    with database.connect() as conn:
        known_gates = gate_metrics(conn, database)
    if policy_file is not None:
        return load_policy_file(policy_file, known_gates)
    thresholds: dict[str, float | None] = {}
    if thresholds_file is not None:
        thresholds = load_threshold_overrides(thresholds_file, known_gates)
    return Proposal(thresholds=thresholds, confidence=confidence)


def replay_runs(
    database: Database, environment: str, since: timedelta, proposal: Proposal | None
) -> RunsReplay:
    """Judge every non-synthetic run of `environment` started in the window again."""
    with database.connect() as conn:  # a transaction, this its first statement
        conn.execute("set transaction isolation level repeatable read, read only")
        # One statement a run, planned once: the judgement's plan takes longer to make
        # (about 30 ms) than to run (about 8 ms at 2,000 samples), and JIT compiling it
        # (about 280 ms) more still; a generic plan keeps the run's filter on the
        # samples' index all the same (docs/benchmarks.md, bench:files).
        conn.execute("set local jit = off")
        conn.execute("set local plan_cache_mode = force_generic_plan")
        end = conn.execute("select now()").fetchone()[0]  # type: ignore[index]
        start = end - since
        stored = _stored_runs(conn, database, environment, start)
        runs = [
            _replay_run(conn, database, run, proposal)
            for run in stored
            if run["status"] in VERDICTS
        ]
        decisions = replay_decisions(
            conn, database, environment, start, proposal.canary if proposal else None
        )
        rollouts = (
            replay_rollouts(conn, database, environment, start, proposal.canary)
            if proposal and proposal.canary
            else []
        )
    runs.sort(key=lambda run: (not run.changed, -run.started_at.timestamp(), run.run_id))
    return RunsReplay(
        environment=environment,
        start=start,
        end=end,
        proposal=proposal,
        runs=runs,
        unjudged_runs=sum(1 for run in stored if run["status"] not in VERDICTS),
        decisions=decisions,
        rollouts=rollouts,
    )


def _stored_runs(
    conn: psycopg.Connection, database: Database, environment: str, start: datetime
) -> list[dict[str, object]]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            sql.SQL(
                "select run_id, run_type, started_at, strict, status, thresholds, gate_policy,"
                " verdict from {} where environment = %s and not is_synthetic"
                " and started_at >= %s order by started_at desc, run_id"
            ).format(database.relation("ai_eval_runs")),
            (environment, start),
        )
        return cur.fetchall()


def _proposed(
    run: dict[str, object], proposal: Proposal | None
) -> tuple[dict[str, object] | None, dict[str, object] | None]:
    """The thresholds snapshot and gate policy a run is replayed under (None: its own)."""
    if proposal is None:
        return None, None
    thresholds = {**(run["thresholds"] or {}), **proposal.thresholds}  # type: ignore[dict-item]
    policy: dict[str, object] = dict(run["gate_policy"] or {})  # type: ignore[call-overload]
    minimums = {**(policy.get("min_samples") or {}), **proposal.min_samples}  # type: ignore[dict-item]
    if proposal.confidence is not None or proposal.point:
        quarantine = policy.get("quarantine")
        policy = gate_policy(
            proposal.confidence,
            minimums,
            list(quarantine) if isinstance(quarantine, list) else None,
        )
    elif proposal.min_samples:
        policy["min_samples"] = dict(sorted(minimums.items()))
    return thresholds, policy


def _replay_run(
    conn: psycopg.Connection,
    database: Database,
    run: dict[str, object],
    proposal: Proposal | None,
) -> ReplayedRun:
    thresholds, policy = _proposed(run, proposal)
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            sql.SQL(
                "select gate, metric, threshold, observed, status from {}(%s, %s::jsonb,"
                " %s::jsonb) where gate is not null order by gate"
            ).format(database.relation("ai_eval_replay_judgement")),
            (
                run["run_id"],
                None if thresholds is None else json.dumps(thresholds),
                None if policy is None else json.dumps(policy),
            ),
            prepare=True,
        )
        replayed = {row["gate"]: row for row in cur.fetchall()}
    verdict: dict[str, object] = run["verdict"] or {}  # type: ignore[assignment]
    stored = {gate["gate"]: gate for gate in verdict.get("gates", [])}  # type: ignore[attr-defined]
    comparison = verdict.get("baseline") or {}
    regressed = bool(comparison.get("regressed"))  # type: ignore[attr-defined]
    gates = []
    for name in sorted(stored.keys() | replayed.keys()):
        old, new = stored.get(name), replayed.get(name)
        gates.append(
            ReplayedGate(
                gate=name,
                metric=str((new or old)["metric"]),  # type: ignore[index]
                stored_threshold=None if old is None else float(old["threshold"]),
                replayed_threshold=None if new is None else float(new["threshold"]),
                stored_status=None if old is None else old["status"],
                replayed_status=None if new is None else new["status"],
                observed=(new or old)["observed"],  # type: ignore[index]
            )
        )
    replayed_status = run_status(
        [gate["status"] for gate in replayed.values()], bool(run["strict"]), regressed
    )
    return ReplayedRun(
        run_id=str(run["run_id"]),
        run_type=str(run["run_type"]),
        started_at=run["started_at"],  # type: ignore[arg-type]
        strict=bool(run["strict"]),
        stored_status=str(run["status"]),
        replayed_status=replayed_status,
        gates=gates,
    )
