"""Evaluation records: strict, streaming validation of a JSONL file.

One JSON object per line; the contract is docs/eval-record.schema.json. A UTF-8 BOM,
CRLF line ends and blank lines are accepted. Everything else that is not exactly the
contract is a problem reported as `FILE:LINE: field: reason`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

REQUIRED_BOOLEANS = ("schema_valid", "safety_html_tailwind_compliant")
OPTIONAL_BOOLEANS = (
    "patch_apply_success",
    "edit_after_generate",
    "publish_conversion",
    "fallback_used",
)
OPTIONAL_STRINGS = (
    "requested_provider",
    "selected_provider",
    "route_strategy",
    "case_id",
    "prompt_template_version",
)
ALLOWED_FIELDS = frozenset(
    (
        "sample_id",
        *REQUIRED_BOOLEANS,
        *OPTIONAL_BOOLEANS,
        *OPTIONAL_STRINGS,
        "latency_ms",
        "created_at",
        "metadata",
    )
)
# Column order of ai_eval_samples that `Record.row` follows (after run_id).
SAMPLE_COLUMNS = (
    "sample_id",
    "line_number",
    "case_id",
    "schema_valid",
    "safety_html_tailwind_compliant",
    "patch_apply_success",
    "edit_after_generate",
    "publish_conversion",
    "fallback_used",
    "latency_ms",
    "requested_provider",
    "selected_provider",
    "route_strategy",
    "prompt_template_version",
    "created_at",
    "metadata",
)
MAX_SAMPLE_ID_LENGTH = 512


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    field: str | None
    reason: str

    def render(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.field}: {self.reason}" if self.field else f"{where}: {self.reason}"


@dataclass(frozen=True)
class Record:
    line_number: int
    values: dict[str, object]

    def row(self) -> tuple[object, ...]:
        values = self.values
        metadata = values.get("metadata")
        return (
            values["sample_id"],
            self.line_number,
            values.get("case_id"),
            values["schema_valid"],
            values["safety_html_tailwind_compliant"],
            values.get("patch_apply_success"),
            values.get("edit_after_generate"),
            values.get("publish_conversion"),
            values.get("fallback_used"),
            values.get("latency_ms"),
            values.get("requested_provider"),
            values.get("selected_provider"),
            values.get("route_strategy"),
            values.get("prompt_template_version"),
            values.get("created_at"),
            None if metadata is None else json.dumps(metadata, ensure_ascii=False),
        )


class _DuplicateKey(ValueError):
    pass


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a valid JSON number")


def _pairs_without_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


_DECODER = json.JSONDecoder(
    object_pairs_hook=_pairs_without_duplicates, parse_constant=_reject_constant
)


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _contains_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_contains_nul(item) for item in value)
    return False


def _non_finite(value: object) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_non_finite(v) for v in value.values())
    if isinstance(value, list):
        return any(_non_finite(item) for item in value)
    return False


def validate_object(obj: object, file: str, line: int) -> tuple[Record | None, list[Problem]]:
    """Check one decoded line against the record contract."""
    problems: list[Problem] = []

    def problem(field: str | None, reason: str) -> None:
        problems.append(Problem(file, line, field, reason))

    if not isinstance(obj, dict):
        problem(None, f"expected a JSON object, got {_type_name(obj)}")
        return None, problems
    for key in obj:
        if key not in ALLOWED_FIELDS:
            problem(key, "unknown field (put extra data in `metadata`)")
    sample_id = obj.get("sample_id")
    if "sample_id" not in obj:
        problem("sample_id", "required")
    elif not isinstance(sample_id, str):
        problem("sample_id", f"must be a string, got {_type_name(sample_id)}")
    elif not sample_id.strip():
        problem("sample_id", "must not be empty")
    elif len(sample_id) > MAX_SAMPLE_ID_LENGTH:
        problem("sample_id", f"longer than {MAX_SAMPLE_ID_LENGTH} characters")
    for field in REQUIRED_BOOLEANS:
        if field not in obj or obj[field] is None:
            problem(field, "required (true or false)")
        elif not isinstance(obj[field], bool):
            problem(field, f"must be true or false, got {_type_name(obj[field])}")
    for field in OPTIONAL_BOOLEANS:
        value = obj.get(field)
        if value is not None and not isinstance(value, bool):
            problem(field, f"must be true, false or null, got {_type_name(value)}")
    for field in OPTIONAL_STRINGS:
        value = obj.get(field)
        if value is not None and not isinstance(value, str):
            problem(field, f"must be a string or null, got {_type_name(value)}")
    latency = obj.get("latency_ms")
    if latency is not None:
        if isinstance(latency, bool) or not isinstance(latency, int | float):
            problem("latency_ms", f"must be a number or null, got {_type_name(latency)}")
        elif not math.isfinite(latency):
            problem("latency_ms", "must be finite")
        elif latency < 0:
            problem("latency_ms", f"must be >= 0, got {latency}")
    created_at = obj.get("created_at")
    parsed_created_at: datetime | None = None
    if created_at is not None:
        if not isinstance(created_at, str):
            problem("created_at", f"must be an ISO 8601 string, got {_type_name(created_at)}")
        else:
            try:
                parsed_created_at = datetime.fromisoformat(created_at)
            except ValueError:
                problem("created_at", f"not an ISO 8601 timestamp: {created_at!r}")
            else:
                if parsed_created_at.tzinfo is None:
                    problem("created_at", f"needs a UTC offset (e.g. +00:00 or Z): {created_at!r}")
    metadata = obj.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        problem("metadata", f"must be an object or null, got {_type_name(metadata)}")
    for key, value in obj.items():
        if _contains_nul(value) or "\x00" in key:
            problem(key.replace("\x00", "\\u0000"), "contains a NUL character")
        elif _non_finite(value):
            problem(key, "contains a number that is not finite")
    if problems:
        return None, problems
    values = dict(obj)
    if parsed_created_at is not None:
        values["created_at"] = parsed_created_at
    if isinstance(latency, int):
        values["latency_ms"] = float(latency)
    return Record(line, values), []


def read_records(path: Path, label: str | None = None) -> Iterator[Record | Problem]:
    """Yield each record, or each problem, line by line; memory stays bounded."""
    file = label or str(path)
    records = problems = 0
    for item in _scan(path, file):
        if isinstance(item, Record):
            records += 1
        else:
            problems += 1
        yield item
    if records == 0 and problems == 0:
        yield Problem(file, None, None, "no records (the file is empty or has only blank lines)")


def _scan(path: Path, file: str) -> Iterator[Record | Problem]:
    try:
        handle = path.open("rb")
    except OSError as exc:
        yield Problem(file, None, None, f"cannot read: {exc.strerror or exc}")
        return
    with handle:
        for line_number, raw in enumerate(handle, start=1):
            yield from _parse_line(raw, file, line_number)


def _parse_line(raw: bytes, file: str, line_number: int) -> Iterator[Record | Problem]:
    if line_number == 1 and raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if b"\x00" in raw:
        yield Problem(file, line_number, None, "contains a NUL byte")
        return
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        yield Problem(file, line_number, None, f"invalid UTF-8 at byte {exc.start + 1} of the line")
        return
    text = text.strip()
    if not text:
        return
    try:
        obj = _DECODER.decode(text)
    except _DuplicateKey as exc:
        yield Problem(file, line_number, str(exc), "duplicate key in one object")
        return
    except json.JSONDecodeError as exc:
        yield Problem(file, line_number, None, f"invalid JSON: {exc.msg} (column {exc.colno})")
        return
    except ValueError as exc:
        yield Problem(file, line_number, None, f"invalid JSON: {exc}")
        return
    except RecursionError:
        yield Problem(file, line_number, None, "invalid JSON: nested too deeply")
        return
    record, problems = validate_object(obj, file, line_number)
    if record is None:
        yield from problems
    else:
        yield record
