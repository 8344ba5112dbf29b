"""Eval results written by other tools (promptfoo, inspect-ai, deepeval), read as they
are and turned into ai-gate eval records (docs/importers.md).

Each format module reads its tool's file into `Attempt`s (one per result: a case, a
provider, a repeat, the tool's check results by name, an error); this module detects
the format, applies the map (ai-gate field -> the tool's check name) and the error
policy, and writes the records that `ai-gate run` ingests like its own.
"""

from __future__ import annotations

import hashlib
import json
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ai_gate.errors import InputRejected
from ai_gate.evals.importers import deepeval, inspect_log, promptfoo
from ai_gate.evals.importers.attempts import Attempt, ToolFile
from ai_gate.evals.metrics import eval_metrics

FORMATS = ("records", "promptfoo", "inspect", "deepeval")
ON_ERROR = ("fail", "skip")
# format -> (is this the tool's file?, read it)
_READERS: dict[str, tuple[Callable[[object], bool], Callable[[object, str], ToolFile]]] = {
    "promptfoo": (promptfoo.detect, promptfoo.read),
    "inspect": (inspect_log.detect, inspect_log.read),
    "deepeval": (deepeval.detect, deepeval.read),
}
_FOUND = {
    "promptfoo": "a promptfoo results file",
    "inspect": "an inspect-ai JSON log",
    "deepeval": "a deepeval test run",
    "records": "ai-gate eval records (JSONL)",
}
ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class Imported:
    """A tool's file as ai-gate records, and what the run stores about its source."""

    records: list[dict[str, object]]
    source: dict[str, object]  # the run's metadata.source
    errors: int  # attempts with an error (kept as failures, or skipped)
    skipped: int


@dataclass
class Document:
    """A tool's file, read (and parsed) once: detecting its format reads it whole."""

    path: Path
    label: str
    raw: bytes
    parsed: object = field(default=None)


HEAD_BYTES = 65536  # enough to see that a file is JSONL records without reading it all


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def _read(path: Path) -> Document:
    label = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputRejected(f"{label}: cannot read: {exc.strerror or exc}") from exc
    return Document(path, label, raw)


def _parse_whole(document: Document) -> object:
    """The file as one JSON document, or None when it is not one (JSONL, not JSON)."""
    try:
        text = document.raw.decode("utf-8-sig")
        return json.loads(text, parse_constant=_reject_constant)
    except ValueError:  # UnicodeDecodeError is one
        return None


def _starts_like_records(path: Path) -> bool | None:
    """True when the file's first line is a record (an object with a sample_id): a
    records file, told from its head alone (it may be large); None when the head does
    not say (a JSON document over several lines, or a first line not JSON)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
    except OSError as exc:
        raise InputRejected(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if head.startswith(ZIP_MAGIC):
        return False
    line = next((raw for raw in head.split(b"\n") if raw.strip()), b"")
    try:
        first = json.loads(line.decode("utf-8-sig"), parse_constant=_reject_constant)
    except ValueError:
        return None
    return True if isinstance(first, dict) and "sample_id" in first else None


def detect(path: Path) -> tuple[str | None, Document | None]:
    """The format of a file, from its content (None when it is none of them), and the
    file read whole when it had to be."""
    if _starts_like_records(path):
        return "records", None
    document = _read(path)
    if document.raw.startswith(ZIP_MAGIC):
        return "inspect-eval-archive", document
    parsed = document.parsed = _parse_whole(document)
    if isinstance(parsed, dict):
        for name, (is_format, _) in _READERS.items():
            if is_format(parsed):
                return name, document
        return None, document
    first = document.raw.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    # JSONL whose first line is not a valid record, or no line at all: the record
    # validator says why
    return ("records" if parsed is None and first in (b"{", b"") else None), document


def _is_regular_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return True  # missing or unreadable: reading it says why


def resolve_format(path: Path, requested: str | None) -> tuple[str, Document | None]:
    """The format to read `path` as: `requested`, checked against the content, else
    the detected one; and the file as read to tell, when it had to be read whole
    (another tool's file; records are streamed by the record reader). A file of
    another format is refused, naming what it is."""
    if str(path) == "-" or not _is_regular_file(path):
        # standard input, a pipe or a device: read once, by the record reader
        if requested not in (None, "records"):
            raise InputRejected(f"{path}: --format {requested} reads a regular file")
        return "records", None
    found, document = detect(path)
    label = str(path)
    if found == "inspect-eval-archive":
        raise InputRejected(
            f"{label}: an inspect-ai .eval log (a zip archive compressed with "
            "zstd, which Python 3.11's zipfile cannot read): write JSON logs "
            "(inspect eval --log-format json) or convert it "
            "(inspect log convert FILE --to json --output-dir DIR)"
        )
    if requested is None:
        if found is None:
            raise InputRejected(
                f"{label}: not a format ai-gate reads (eval records as JSONL, or "
                "the results of promptfoo, inspect-ai or deepeval); name it with --format"
            )
        return found, document
    if found != requested:
        what = _FOUND.get(found or "", "none of the formats ai-gate reads")
        raise InputRejected(f"{label}: not {_FOUND[requested]} (found: {what})")
    return requested, document


def load_map(path: Path | None) -> dict[str, str] | None:
    """MAP.yml: ai-gate field -> the tool's check name."""
    if path is None:
        return None
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputRejected(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputRejected(f"{path}: not YAML: {str(exc).splitlines()[0]}") from exc
    if not isinstance(loaded, dict) or not loaded:
        raise InputRejected(f"{path}: must map ai-gate fields to check names (FIELD: NAME)")
    for key, value in loaded.items():
        if not isinstance(key, str) or not isinstance(value, str) or not value:
            raise InputRejected(f"{path}: {key!r}: must map a field to a check name (text)")
    return dict(loaded)


def _field_map(tool_file: ToolFile, mapping: dict[str, str] | None, label: str) -> dict[str, str]:
    """ai-gate field -> tool check name: the map, checked, else every rate field whose own
    name is a check of the file."""
    fields = {m.field: m for m in eval_metrics() if m.kind == "rate"}
    checks = tool_file.check_names()
    if mapping is None:
        chosen = {name: name for name in fields if name in checks}
        if not chosen:
            raise InputRejected(
                f"{label}: no check of the file is named after an ai-gate field "
                f"(checks: {', '.join(sorted(checks)) or 'none'}); give a map with --map"
            )
    else:
        unknown = sorted(set(mapping) - set(fields))
        if unknown:
            raise InputRejected(
                f"map: {', '.join(unknown)}: not an ai-gate record field"
                f" (rate fields: {', '.join(fields)})"
            )
        absent = sorted(name for name in mapping.values() if name not in checks)
        if absent:
            raise InputRejected(
                f"map: {', '.join(absent)}: no check of that name in {label}"
                f" (checks: {', '.join(sorted(checks)) or 'none'})"
            )
        chosen = dict(mapping)
    missing = [m.field for m in fields.values() if m.required and m.field not in chosen]
    if missing:
        raise InputRejected(
            f"{label}: ai-gate's records need {', '.join(missing)} (required), and no check "
            "of the file gives it: map one with --map (FIELD: CHECK)"
        )
    return chosen


def _records(
    attempts: list[Attempt], fields: dict[str, str], on_error: str, label: str
) -> Iterator[dict[str, object] | None]:
    """One record per attempt (None for an errored attempt that is skipped)."""
    required = {m.field for m in eval_metrics() if m.required}
    for attempt in attempts:
        if attempt.error is not None and on_error == "skip":
            yield None
            continue
        values: dict[str, object] = {}
        for target, check in fields.items():
            result = attempt.results.get(check)
            if result is None and attempt.error is not None:
                result = False  # an error fails every check it has no result for
            if result is None and target in required:
                raise InputRejected(
                    f"{label}: {attempt.where}: no result for {check} (mapped to the "
                    f"required field {target})"
                )
            values[target] = result
        metadata: dict[str, object] = {"repeat": attempt.repeat}
        if attempt.error is not None:
            metadata["error"] = attempt.error
        yield {
            "sample_id": attempt.sample_id,
            "case_id": attempt.case_id,
            **values,
            "latency_ms": attempt.latency_ms,
            "selected_provider": attempt.provider,
            "created_at": attempt.created_at,
            "metadata": metadata,
        }


def load(document: Document, fmt: str, mapping: dict[str, str] | None, on_error: str) -> Imported:
    """A tool's file (as resolve_format read it) as ai-gate records."""
    tool_file = _READERS[fmt][1](document.parsed, document.label)
    fields = _field_map(tool_file, mapping, document.label)
    records, skipped = [], 0
    for record in _records(tool_file.attempts, fields, on_error, document.label):
        if record is None:
            skipped += 1
        else:
            records.append(record)
    if not records:
        raise InputRejected(f"{document.label}: no attempt left to ingest ({skipped} skipped)")
    errors = sum(1 for attempt in tool_file.attempts if attempt.error is not None)
    source = {
        "format": fmt,
        "tool": tool_file.tool,
        "tool_version": tool_file.tool_version,
        "eval_id": tool_file.eval_id,
        "file": document.path.name,
        "file_sha256": hashlib.sha256(document.raw).hexdigest(),
        "map": fields,
        "on_error": on_error,
        "attempts": len(tool_file.attempts),
        "errors": errors,
        "skipped": skipped,
    }
    return Imported(records, source, errors, skipped)


def write_records(records: list[dict[str, object]], target: Path) -> None:
    with target.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
