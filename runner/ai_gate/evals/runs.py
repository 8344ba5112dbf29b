"""An evaluation run end to end: thresholds, ingest, judge; the stored verdict."""

from __future__ import annotations

from dataclasses import replace
from typing import TextIO

from ai_gate.database import Database
from ai_gate.errors import InputRejected
from ai_gate.evals.ingest import RUN_TYPES, RunOptions, ingest
from ai_gate.evals.thresholds import (
    environment_confidence,
    environment_thresholds,
    gate_names,
    gate_policy,
    load_threshold_overrides,
    require_a_gate,
)
from ai_gate.evals.verdicts import VERDICTS, EvalReport, judge, load_report


def run_evaluation(
    database: Database,
    options: RunOptions,
    progress: TextIO | None = None,
) -> EvalReport:
    """Validate, ingest, judge and store one record file; return the stored verdict."""
    if options.run_type not in RUN_TYPES:
        raise InputRejected(f"run type must be one of {', '.join(RUN_TYPES)}")
    with database.connect() as conn:
        known_gates = gate_names(conn, database)
        thresholds, min_samples = environment_thresholds(conn, database, options.environment)
        confidence = options.confidence
        if confidence is None:
            confidence = environment_confidence(conn, database, options.environment)
    if options.thresholds_file is not None:
        thresholds.update(load_threshold_overrides(options.thresholds_file, known_gates))
    require_a_gate(thresholds, options.environment, options.thresholds_file)
    policy = gate_policy(confidence, min_samples)
    run_id, existing = ingest(database, options, thresholds, policy, progress)
    if existing is not None and existing["status"] in VERDICTS:
        return replace(load_report(database, run_id), reused=True)
    # Otherwise a run that was there already was ingested but not judged: aborted, its
    # process died, or another process is judging it now (judge waits for that).
    report = judge(database, run_id)
    return replace(report, reused=existing is not None)
