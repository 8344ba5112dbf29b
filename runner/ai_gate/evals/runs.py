"""An evaluation run end to end: thresholds, ingest, judge; the stored verdict."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TextIO

from ai_gate.database import Database
from ai_gate.errors import InputRejected
from ai_gate.evals.ingest import RUN_TYPES, RunOptions, ingest
from ai_gate.evals.sources import open_source
from ai_gate.evals.thresholds import (
    EnvironmentGates,
    gate_policy,
    load_threshold_overrides,
    read_environment_gates,
    require_a_gate,
)
from ai_gate.evals.verdicts import VERDICTS, RunVerdict, judge, load_verdict


def run_evaluation(
    database: Database,
    options: RunOptions,
    progress: TextIO | None = None,
    gates: EnvironmentGates | None = None,
) -> RunVerdict:
    """Validate, ingest, judge and store one file (ai-gate records, or another tool's
    results, read as records as it is streamed: evals/sources.py); return the stored
    verdict. `gates`: the environment's seeded gates when the caller read them already
    (daily, once for all its files), else read here."""
    if options.run_type not in RUN_TYPES:
        raise InputRejected(f"run type must be one of {', '.join(RUN_TYPES)}")
    source = open_source(options.path, options.format, options.map_file, options.on_error)
    if gates is None or gates.environment != options.environment:
        with database.connect() as conn:
            gates = read_environment_gates(conn, database, options.environment)
    thresholds = dict(gates.thresholds)
    if options.thresholds_file is not None:
        thresholds.update(load_threshold_overrides(options.thresholds_file, gates.known_gates))
    require_a_gate(thresholds, options.environment, options.thresholds_file)
    confidence = options.confidence if options.confidence is not None else gates.confidence
    policy = gate_policy(confidence, gates.min_samples, gates.quarantine)
    run_id, existing = ingest(database, options, source, thresholds, policy, progress)
    if progress is not None and source.source is not None:
        progress.write(imported_summary(source.label, source.source))
    if existing is not None and existing["status"] in VERDICTS:
        return replace(load_verdict(database, run_id), reused=True)
    # Otherwise a run that was there already was ingested but not judged: aborted, its
    # process died, or another process is judging it now (judge waits for that).
    verdict = judge(database, run_id)
    return replace(verdict, rejudged=existing is not None)


def imported_summary(label: str, source: dict[str, object]) -> str:
    """One line on what another tool's file held."""
    version = f" {source['tool_version']}" if source.get("tool_version") else ""
    errored = (
        f"{source['skipped']} errored left out (--on-error skip)"
        if source.get("skipped")
        else f"{source['errors']} errored, failing the checks they have no result for"
    )
    return (
        f"ai-gate: {Path(label).name}: {source['tool']}{version}, {source['attempts']} "
        f"attempts; {errored}\n"
    )
