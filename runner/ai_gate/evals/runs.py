"""An evaluation run end to end: thresholds, ingest, judge; the stored verdict."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from ai_gate.database import Database
from ai_gate.errors import InputRejected
from ai_gate.evals import importers
from ai_gate.evals.ingest import RUN_TYPES, RunOptions, ingest
from ai_gate.evals.thresholds import (
    environment_confidence,
    environment_quarantine,
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
    """Validate, ingest, judge and store one file (ai-gate records, or another tool's
    results: importers); return the stored verdict."""
    if options.run_type not in RUN_TYPES:
        raise InputRejected(f"run type must be one of {', '.join(RUN_TYPES)}")
    fmt, document = importers.resolve_format(options.path, options.format)
    if fmt != "records":  # another tool's file, read whole to tell its format
        assert document is not None
        return _run_imported(database, options, fmt, document, progress)
    if options.map_file is not None:
        raise InputRejected("--map applies to the results of another tool, not to eval records")
    with database.connect() as conn:
        known_gates = gate_names(conn, database)
        thresholds, min_samples = environment_thresholds(conn, database, options.environment)
        confidence = options.confidence
        if confidence is None:
            confidence = environment_confidence(conn, database, options.environment)
        quarantine = environment_quarantine(conn, database, options.environment)
    if options.thresholds_file is not None:
        thresholds.update(load_threshold_overrides(options.thresholds_file, known_gates))
    require_a_gate(thresholds, options.environment, options.thresholds_file)
    policy = gate_policy(confidence, min_samples, quarantine)
    run_id, existing = ingest(database, options, thresholds, policy, progress)
    if existing is not None and existing["status"] in VERDICTS:
        return replace(load_report(database, run_id), reused=True)
    # Otherwise a run that was there already was ingested but not judged: aborted, its
    # process died, or another process is judging it now (judge waits for that).
    report = judge(database, run_id)
    return replace(report, reused=existing is not None)


def _run_imported(
    database: Database,
    options: RunOptions,
    fmt: str,
    document: importers.Document,
    progress: TextIO | None,
) -> EvalReport:
    """Another tool's file: its records, written to a temporary file, ingested like
    ai-gate's own; the run's metadata says where they came from."""
    imported = importers.load(document, fmt, importers.load_map(options.map_file), options.on_error)
    if progress is not None:
        source = imported.source
        version = f" {source['tool_version']}" if source["tool_version"] else ""
        errored = (
            f"{imported.skipped} errored left out (--on-error skip)"
            if imported.skipped
            else f"{imported.errors} errored, failing the checks they have no result for"
        )
        progress.write(
            f"ai-gate: {options.path.name}: {source['tool']}{version}, "
            f"{source['attempts']} attempts; {errored}\n"
        )
    with tempfile.TemporaryDirectory() as directory:
        records = Path(directory) / "records.jsonl"
        importers.write_records(imported.records, records)
        return run_evaluation(
            database,
            replace(
                options,
                path=records,
                format="records",
                map_file=None,
                source_name=options.path.name,
                metadata={**options.metadata, "source": imported.source},
            ),
            progress,
        )
