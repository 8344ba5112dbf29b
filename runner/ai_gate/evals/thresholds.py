"""Gate thresholds: the seeded ones of an environment, a run's overrides file, and the
gate policy (point estimate, or one-sided bounds at a confidence)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from ai_gate.database import Database
from ai_gate.errors import InputRejected
from ai_gate.evals.metrics import (
    interval_metric_names,
    metric_named,
    metric_names,
    rate_metric_names,
)
from ai_gate.files import is_scalar, read_yaml_mapping
from ai_gate.routing.configuration import unknown_environment
from ai_gate.stats import z_one_sided

# The metrics in report order, the rate metrics among them, and those whose summary
# has a 95% interval: rates (Wilson), means (Johnson), ratios to a baseline (delta).
METRICS = metric_names()
RATE_METRICS = rate_metric_names()
INTERVAL_METRICS = interval_metric_names()
# The kinds of metric whose values are shares (0 to 1): their thresholds are too.
SHARE_KINDS = ("rate", "repeats")
# The confidence at which a gate with fewer samples than its minimum is failed, when the
# environment sets none: the evidence must be conclusive against it.
BELOW_MINIMUM_CONFIDENCE = 0.95


def gate_metrics(conn: psycopg.Connection, database: Database) -> dict[str, str]:
    """Each gate (ai_eval_gate_definitions) and the metric it reads, by gate name."""
    rows = conn.execute(
        sql.SQL("select gate, metric from {} order by gate").format(
            database.relation("ai_eval_gate_definitions")
        )
    ).fetchall()
    return {gate: metric for gate, metric in rows}


def gate_policy(
    confidence: float | None, min_samples: dict[str, int], quarantine: list[str] | None = None
) -> dict[str, object]:
    """The stored gate policy: point estimates (confidence None) or one-sided bounds at a
    confidence, each gate's minimum sample count and the z below it, and the cases kept
    out of the gates (only when there are any: a policy without them is the one stored
    before them)."""
    policy: dict[str, object] = {"policy": "point"}
    if confidence is not None:
        if not 0.5 < confidence < 1:
            raise InputRejected(f"confidence must be between 0.5 and 1, got {confidence}")
        policy = {
            "policy": "confidence",
            "confidence": confidence,
            "z": z_one_sided(1 - confidence),
        }
    policy = {
        **policy,
        "min_samples": dict(sorted(min_samples.items())),
        # below a gate's minimum it never passes, and fails when its one-sided bound at
        # this z (the confidence, else BELOW_MINIMUM_CONFIDENCE) misses the threshold
        "below_minimum_z": z_one_sided(1 - (confidence or BELOW_MINIMUM_CONFIDENCE)),
    }
    return {**policy, "quarantine": sorted(quarantine)} if quarantine else policy


@dataclass(frozen=True)
class EnvironmentGates:
    """What an environment's seeds say about judging its runs, read once (`daily`
    judges every file of a day on the same read): the gates that exist, the seeded
    thresholds (None: off), minimum sample counts, confidence and quarantined cases."""

    environment: str
    known_gates: dict[str, str]  # gate -> the metric it reads
    thresholds: dict[str, float | None]
    min_samples: dict[str, int]
    confidence: float | None
    quarantine: list[str] = field(default_factory=list)


def read_environment_gates(
    conn: psycopg.Connection, database: Database, environment: str
) -> EnvironmentGates:
    thresholds, min_samples = environment_thresholds(conn, database, environment)
    return EnvironmentGates(
        environment=environment,
        known_gates=gate_metrics(conn, database),
        thresholds=thresholds,
        min_samples=min_samples,
        confidence=environment_confidence(conn, database, environment),
        quarantine=environment_quarantine(conn, database, environment),
    )


def environment_quarantine(
    conn: psycopg.Connection, database: Database, environment: str
) -> list[str]:
    """The cases ai_eval_quarantine keeps out of the environment's gates."""
    rows = conn.execute(
        sql.SQL("select case_id from {} where environment = %s order by case_id").format(
            database.relation("ai_eval_quarantine")
        ),
        (environment,),
    ).fetchall()
    return [row[0] for row in rows]


def environment_confidence(
    conn: psycopg.Connection, database: Database, environment: str
) -> float | None:
    rows = conn.execute(
        sql.SQL(
            "select distinct confidence from {} where environment = %s and confidence is not null"
        ).format(database.relation("ai_eval_thresholds")),
        (environment,),
    ).fetchall()
    if len(rows) > 1:
        raise InputRejected(
            f"ai_eval_thresholds gives environment {environment!r} more than one confidence "
            f"({', '.join(str(row[0]) for row in rows)}); give one value on every row"
        )
    return float(rows[0][0]) if rows else None


def environment_thresholds(
    conn: psycopg.Connection, database: Database, environment: str
) -> tuple[dict[str, float | None], dict[str, int]]:
    """The environment's seeded thresholds (None: off) and minimum sample counts."""
    rows = conn.execute(
        sql.SQL("select gate, threshold, min_samples from {} where environment = %s").format(
            database.relation("ai_eval_thresholds")
        ),
        (environment,),
    ).fetchall()
    if not rows:
        known = conn.execute(
            sql.SQL("select distinct environment from {} order by 1").format(
                database.relation("ai_eval_thresholds")
            )
        ).fetchall()
        raise unknown_environment(environment, [row[0] for row in known])
    thresholds = {gate: None if value is None else float(value) for gate, value, _ in rows}
    return thresholds, {gate: int(minimum or 1) for gate, _, minimum in rows}


def require_a_gate(
    thresholds: dict[str, float | None], environment: str, thresholds_file: Path | None
) -> None:
    """A run that no gate judges proves nothing: refused, never passed."""
    if any(value is not None for value in thresholds.values()):
        return
    where = f"{thresholds_file} and " if thresholds_file else ""
    raise InputRejected(
        f"{where}the {environment} thresholds switch every gate off: nothing would be "
        "judged; switch at least one gate on (nothing was written)"
    )


def load_threshold_overrides(path: Path, known_gates: dict[str, str]) -> dict[str, float | None]:
    """Read a thresholds YAML file: a mapping of gate name to a number or null (a
    share, at most 1, for a gate on a rate or on case_pass_k)."""
    label = str(path)
    problems: list[str] = []
    entries = read_yaml_mapping(path, "gate name to threshold", "thresholds")
    overrides = threshold_values(entries, label, known_gates, problems)
    if problems:
        raise InputRejected(f"{label}: thresholds rejected", problems)
    return overrides


def threshold_values(
    entries: list[tuple[str, object, int]],
    label: str,
    known_gates: dict[str, str],
    problems: list[str],
) -> dict[str, float | None]:
    """Gate thresholds from a file's entries (gate, value, line): a number or null
    (off); each problem appended, naming the file and line."""
    overrides: dict[str, float | None] = {}
    for gate, value, line in entries:
        if gate not in known_gates:
            problems.append(
                f"{label}:{line}: {gate}: unknown gate (known: {', '.join(known_gates)})"
            )
        elif not is_scalar(value):
            problems.append(f"{label}:{line}: {gate}: must be a number or null")
        elif value is None:
            overrides[gate] = None
        elif isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"{label}:{line}: {gate}: must be a number or null, got {value!r}")
        elif not math.isfinite(value) or value < 0:
            problems.append(f"{label}:{line}: {gate}: must be a finite number >= 0, got {value}")
        elif metric_named(known_gates[gate]).kind in SHARE_KINDS and value > 1:
            problems.append(f"{label}:{line}: {gate}: a rate threshold must be <= 1, got {value}")
        else:
            overrides[gate] = float(value)
    return overrides
