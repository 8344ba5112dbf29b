"""Eval results written by other tools (promptfoo, inspect-ai, deepeval), read as they
are and turned into ai-gate eval records (docs/importers.md).

Each tool's module declares its importer (attempts.Importer: its --format name, how
its file is told from the file's head, and a reader that streams the file's attempts);
IMPORTERS lists them, and the format names, the help and the refusals come from it.
This module tells a file's format from a bounded head (never reading the whole file to
do it), applies the map (ai-gate field -> the tool's check name) and the error policy,
and turns each attempt into the record `ai-gate run` ingests like its own, one at a
time.
"""

from __future__ import annotations

import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ai_gate.errors import InputRejected
from ai_gate.evals.importers import deepeval, inspect_log, promptfoo
from ai_gate.evals.importers.attempts import Attempt, Importer, ToolFile
from ai_gate.evals.importers.json_stream import read_head
from ai_gate.evals.metrics import eval_metrics
from ai_gate.files import read_yaml_mapping

IMPORTERS: tuple[Importer, ...] = (promptfoo.IMPORTER, inspect_log.IMPORTER, deepeval.IMPORTER)
RECORDS = "records"
RECORDS_WHAT = "ai-gate eval records (JSONL)"
FORMATS = (RECORDS, *(importer.format for importer in IMPORTERS))
ON_ERROR = ("fail", "skip")
# The record field a record's own first line carries, which tells a records file.
RECORD_KEY = "sample_id"


def importer_named(name: str) -> Importer:
    return next(importer for importer in IMPORTERS if importer.format == name)


def _what(name: str | None) -> str:
    if name == RECORDS:
        return RECORDS_WHAT
    known = [importer.what for importer in IMPORTERS if importer.format == name]
    return known[0] if known else "none of the formats ai-gate reads"


# What a file is when it is one JSON document of none of the formats.
UNKNOWN = "unknown"


def detect(path: Path) -> str | None:
    """The format of a file, told from its head (at most json_stream.HEAD_BYTES): a
    tool's by its top-level keys, records by the first line's `sample_id`; a zip is an
    inspect-ai .eval log; UNKNOWN for a whole JSON document of none of them. None when
    the head says nothing (JSONL whose first line is not a record, or not JSON)."""
    head = read_head(path, str(path))
    if head.is_zip:
        return inspect_log.IMPORTER.format
    if head.is_object and RECORD_KEY in head.keys:
        return RECORDS
    for importer in IMPORTERS:
        if head.is_object and importer.detect(head.keys):
            return importer.format
    return UNKNOWN if head.is_one_document else None


def _first_byte(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    except OSError:
        return b""


def _is_regular_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return True  # missing or unreadable: reading it says why


def resolve_format(path: Path, requested: str | None) -> str:
    """The format to read `path` as: `requested`, checked against the head, else the
    detected one. Records are never told from a head that names another format, and a
    file of another format is refused, naming what it is. Standard input, a pipe or a
    device is read once, as records."""
    label = str(path)
    if str(path) == "-" or not _is_regular_file(path):
        if requested not in (None, RECORDS):
            raise InputRejected(f"{label}: --format {requested} reads a regular file")
        return RECORDS
    found = detect(path)
    if requested is None:
        if found not in (None, UNKNOWN):
            return found
        if found is None and _first_byte(path) in (b"{", b""):
            # JSONL whose first line the head could not place, or an empty file: the
            # record reader says why, line by line
            return RECORDS
        raise InputRejected(
            f"{label}: not a format ai-gate reads ({RECORDS_WHAT}, or the results of "
            f"{', '.join(importer.format for importer in IMPORTERS)}); name it with --format"
        )
    if found is None or (found == UNKNOWN and requested == RECORDS):
        # what the head cannot place, the reader says (records: line by line; a tool's
        # file: truncated, not JSON, ...)
        return requested
    if found != requested:
        raise InputRejected(f"{label}: not {_what(requested)} (found: {_what(found)})")
    return requested


def load_map(path: Path | None) -> dict[str, str] | None:
    """MAP.yml: ai-gate field -> the tool's check name, each field once."""
    if path is None:
        return None
    entries = read_yaml_mapping(
        path, "ai-gate field to the tool's check name (FIELD: CHECK)", "map"
    )
    mapping: dict[str, str] = {}
    problems = []
    for key, value, line in entries:
        if not isinstance(value, str) or not value:
            problems.append(f"{path}:{line}: {key}: must map a field to a check name (text)")
        else:
            mapping[key] = value
    if problems:
        raise InputRejected(f"{path}: map rejected", problems)
    return mapping


def rate_fields() -> dict[str, bool]:
    """The record fields a check can give (the rate metrics'), and whether required."""
    return {m.field: m.required for m in eval_metrics() if m.kind == "rate"}


def choose_fields(mapping: dict[str, str] | None, checks: set[str]) -> dict[str, str]:
    """ai-gate field -> the tool's check it comes from: the map (its fields checked
    here; its checks, with the rest of what the file must have, once it is read), else
    every rate field whose own name is a check of the file."""
    fields = rate_fields()
    if mapping is None:
        return {name: name for name in fields if name in checks}
    unknown = sorted(set(mapping) - set(fields))
    if unknown:
        raise InputRejected(
            f"map: {', '.join(unknown)}: not an ai-gate record field"
            f" (rate fields: {', '.join(fields)})"
        )
    return dict(mapping)


@dataclass
class Conversion:
    """Turning a tool file's attempts into records, one at a time; what it saw, for the
    checks made once the file is read and the run's `metadata.source`."""

    importer: Importer
    tool_file: ToolFile
    checks: set[str]  # every check name of the file (Importer.checks)
    fields: dict[str, str]  # ai-gate field -> the tool's check name
    mapped: bool  # the fields came from --map
    on_error: str
    label: str
    attempts: int = 0
    errors: int = 0
    skipped: int = 0
    # required fields an attempt had no result for: field -> the first attempts' places
    missing: dict[str, list[str]] = field(default_factory=dict)

    def records(self) -> Iterator[tuple[Attempt, dict[str, object] | None]]:
        """Each attempt with its record: None for an errored attempt that is skipped, and
        for one without a result for a required field (refused by `finish`)."""
        required = {name for name, is_required in rate_fields().items() if is_required}
        for attempt in self.tool_file.attempts:
            self.attempts += 1
            if attempt.error is not None:
                self.errors += 1
                if self.on_error == "skip":
                    self.skipped += 1
                    yield attempt, None
                    continue
            values: dict[str, object] = {}
            complete = True
            for target, check in self.fields.items():
                result = attempt.results.get(check)
                if result is None and attempt.error is not None:
                    result = False  # an error fails every check it has no result for
                if result is None and target in required:
                    self.missing.setdefault(target, []).append(attempt.where)
                    complete = False
                values[target] = result
            if not complete:
                yield attempt, None
                continue
            metadata: dict[str, object] = {"repeat": attempt.repeat}
            if attempt.error is not None:
                metadata["error"] = attempt.error
            yield (
                attempt,
                {
                    "sample_id": attempt.sample_id,
                    "case_id": attempt.case_id,
                    **values,
                    "latency_ms": attempt.latency_ms,
                    "input_tokens": attempt.input_tokens,
                    "output_tokens": attempt.output_tokens,
                    "cost_usd": attempt.cost_usd,
                    "model": attempt.model,
                    "selected_provider": attempt.provider,
                    "created_at": attempt.created_at,
                    "metadata": metadata,
                },
            )

    def finish(self) -> dict[str, object]:
        """After the last attempt: what the whole file must have (results, the mapped
        checks, the required fields), refused otherwise; the run's `metadata.source`."""
        what = self.importer.what
        if self.attempts == 0:
            raise InputRejected(
                f"{self.label}: {what} with no results: nothing to judge; nothing was written"
            )
        checks = ", ".join(sorted(self.checks)) or "none"
        chosen = self.fields
        if self.mapped:
            absent = sorted(c for c in self.fields.values() if c not in self.checks)
            if absent:
                raise InputRejected(
                    f"map: {', '.join(absent)}: no check of that name in {self.label}"
                    f" (checks: {checks})"
                )
        elif not chosen:
            raise InputRejected(
                f"{self.label}: no check of the file is named after an ai-gate field "
                f"(checks: {checks}); give a map with --map"
            )
        required = [name for name, is_required in rate_fields().items() if is_required]
        unmet = [name for name in required if name not in chosen]
        if unmet:
            raise InputRejected(
                f"{self.label}: ai-gate's records need {', '.join(unmet)} (required), and "
                "no check of the file gives it: map one with --map (FIELD: CHECK)"
            )
        if self.missing:
            problems = [
                f"{self.label}: {where}: no result for {self.fields[target]} (mapped to the "
                f"required field {target})"
                for target, places in self.missing.items()
                for where in places[:20]
            ]
            raise InputRejected(f"{self.label}: rejected; nothing was written", problems)
        if self.skipped == self.attempts:
            raise InputRejected(f"{self.label}: no attempt left to ingest ({self.skipped} skipped)")
        return {
            "format": self.importer.format,
            "tool": self.tool_file.tool,
            "tool_version": self.tool_file.tool_version,
            "eval_id": self.tool_file.eval_id,
            "file": Path(self.label).name,
            "file_sha256": self.tool_file.file_sha256,
            "map": chosen,
            "on_error": self.on_error,
            "attempts": self.attempts,
            "errors": self.errors,
            "skipped": self.skipped,
        }


def convert(
    importer: Importer, path: Path, mapping: dict[str, str] | None, on_error: str
) -> Conversion:
    """A conversion of `path` (read as `importer`'s format) into records: the map's
    fields checked first, then the file's check names read (a pass of their own)."""
    label = str(path)
    if mapping is not None:
        choose_fields(mapping, set())
    checks = importer.checks(path, label)
    return Conversion(
        importer,
        importer.read(path, label),
        checks,
        choose_fields(mapping, checks),
        mapping is not None,
        on_error,
        label,
    )
