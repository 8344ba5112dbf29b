"""Evaluation records: strict, streaming validation of a JSONL file.

One JSON object per line; the contract is docs/eval-record.schema.json. A UTF-8 BOM,
CRLF line ends and blank lines are accepted. Everything else that is not exactly the
contract is a problem reported as `FILE:LINE: field: reason`.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from psycopg.types.json import Jsonb

from ai_gate.evals.metrics import boolean_fields

# The rate metrics' fields (dbt_project.yml, vars eval_metrics).
REQUIRED_BOOLEANS = boolean_fields(required=True)
OPTIONAL_BOOLEANS = boolean_fields(required=False)
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
    *REQUIRED_BOOLEANS,
    *OPTIONAL_BOOLEANS,
    "latency_ms",
    "requested_provider",
    "selected_provider",
    "route_strategy",
    "prompt_template_version",
    "created_at",
    "metadata",
)
# PostgreSQL types of SAMPLE_COLUMNS, for binary COPY (about 2.5 times cheaper per row
# on the client than text COPY, which matters at hundreds of thousands of rows/s).
SAMPLE_COPY_TYPES = (
    "text",
    "int4",
    "text",
    *("bool" for _ in (*REQUIRED_BOOLEANS, *OPTIONAL_BOOLEANS)),
    "float8",
    "text",
    "text",
    "text",
    "text",
    "timestamptz",
    "jsonb",
)
MAX_SAMPLE_ID_LENGTH = 512
# Bytes read at a time; about 2,500 records of a typical size.
CHUNK_BYTES = 1 << 20
# A record is a few hundred bytes; a longer line is refused, not buffered (a 50 MB
# line once cost 246 MB). Equal to the chunk size, so only a line carried over from
# one chunk into the next can exceed it (read_records relies on that).
MAX_LINE_BYTES = CHUNK_BYTES
# How deep `metadata` may nest (an object or array inside another counts one level).
MAX_METADATA_DEPTH = 32
# Unpaired UTF-16 surrogates: JSON's \ud800 escapes decode to them, and no UTF-8 text
# (so no PostgreSQL text) can hold one.
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    field: str | None
    reason: str
    # The line's sample_id, when it had a usable one: a rejected line's id still
    # counts when looking for duplicates.
    sample_id: str | None = None
    # where the problem is, when not a line of `file` (a place in another tool's file,
    # already with the file's name: `results.json: results.results[3]`)
    location: str | None = None

    def render(self) -> str:
        if self.location is not None:
            where = self.location
        else:
            where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.field}: {self.reason}" if self.field else f"{where}: {self.reason}"


class Record(tuple):
    """One valid record: its ai_eval_samples row (SAMPLE_COLUMNS order, metadata
    wrapped as Jsonb), which holds its line number. A tuple, so that ingest builds one
    object per line in C."""

    __slots__ = ()

    @property
    def line_number(self) -> int:
        return self[1]

    def row(self) -> tuple[object, ...]:
        return self

    @property
    def values(self) -> dict[str, object]:
        return {
            name: value
            for name, value in zip(SAMPLE_COLUMNS, self, strict=True)
            if name != "line_number"
        }


# A sample is recorded after it ran; a clock a little ahead is tolerated, a timestamp
# days or centuries ahead (9999-12-31T23:59:59-14:00 is year 10000 in UTC) is a bug.
FUTURE_TOLERANCE = timedelta(days=1)


def _latest_created_at() -> datetime:
    return datetime.now(UTC) + FUTURE_TOLERANCE


def _row_from_values(line_number: int, values: dict[str, object]) -> tuple[object, ...]:
    metadata = values.get("metadata")
    return tuple(
        line_number
        if name == "line_number"
        else (
            (None if metadata is None else Jsonb(metadata))
            if name == "metadata"
            else values.get(name)
        )
        for name in SAMPLE_COLUMNS
    )


def _depth(value: object) -> int:
    """Nesting depth of a decoded JSON value (a scalar is 0), without recursion."""
    deepest = 0
    stack = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            level += 1
            deepest = max(deepest, level)
            if level <= MAX_METADATA_DEPTH:
                children = item.values() if isinstance(item, dict) else item
                stack.extend((child, level) for child in children)
    return deepest


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


# Marks, in the objects of a line decoded again, the first key given twice.
_SECOND_KEY = object()


def _marking_pairs(pairs: list[tuple[str, object]]) -> dict[object, object]:
    result: dict[object, object] = {}
    for key, value in pairs:
        if key in result and _SECOND_KEY not in result:
            result[_SECOND_KEY] = key
        result[key] = value
    return result


def _duplicate_path(text: str) -> str | None:
    """The path (`metadata.a`, `metadata.list[2].b`) of the first key given twice in a
    line: decoded again with every object marked (only for a line already refused)."""
    try:
        tree = json.JSONDecoder(object_pairs_hook=_marking_pairs).decode(text)
    except (ValueError, RecursionError):
        return None
    stack: list[tuple[object, str]] = [(tree, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, dict):
            if _SECOND_KEY in value:
                key = value[_SECOND_KEY]
                return f"{path}.{key}" if path else str(key)
            stack.extend(
                (item, f"{path}.{key}" if path else str(key))
                for key, item in reversed(list(value.items()))
                if key is not _SECOND_KEY
            )
        elif isinstance(value, list):
            stack.extend(
                (item, f"{path}[{index}]") for index, item in reversed(list(enumerate(value)))
            )
    return None


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


def _bad_character(value: object) -> str | None:
    """Why a string in `value` (keys included) cannot be stored as PostgreSQL text, or
    None: a NUL, or an unpaired surrogate. `value` is at most MAX_METADATA_DEPTH deep."""
    if isinstance(value, str):
        if "\x00" in value:
            return "contains a NUL character"
        found = _SURROGATE.search(value)
        if found:
            return f"contains an unpaired surrogate (\\u{ord(found.group()):04x})"
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            reason = _bad_character(key) or _bad_character(item)
            if reason:
                return reason
    elif isinstance(value, list):
        for item in value:
            reason = _bad_character(item)
            if reason:
                return reason
    return None


def _printable_key(key: str) -> str:
    return key.encode("unicode_escape").decode("ascii") if _bad_character(key) else key


def _non_finite(value: object) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_non_finite(v) for v in value.values())
    if isinstance(value, list):
        return any(_non_finite(item) for item in value)
    return False


def _as_float(number: int | float) -> float:
    """An integer too large for a float (JSON allows any size) is infinite, not an
    OverflowError."""
    try:
        return float(number)
    except OverflowError:
        return math.inf


def _parse_created_at(created_at: object) -> tuple[datetime | None, str | None]:
    """(the timestamp, None), or (None, why it is refused); (None, None) when absent."""
    if created_at is None:
        return None, None
    if not isinstance(created_at, str):
        return None, f"must be an ISO 8601 string, got {_type_name(created_at)}"
    try:
        parsed = datetime.fromisoformat(created_at)
    except ValueError:
        return None, f"not an ISO 8601 timestamp: {created_at!r}"
    if parsed.tzinfo is None:
        return None, f"needs a UTC offset (e.g. +00:00 or Z): {created_at!r}"
    if parsed > _latest_created_at():
        return None, f"more than {FUTURE_TOLERANCE.days} day in the future: {created_at!r}"
    return parsed, None


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
        elif not math.isfinite(_as_float(latency)):
            problem("latency_ms", "must be finite")
        elif latency < 0:
            problem("latency_ms", f"must be >= 0, got {latency}")
    parsed_created_at, created_at_problem = _parse_created_at(obj.get("created_at"))
    if created_at_problem:
        problem("created_at", created_at_problem)
    metadata = obj.get("metadata")
    too_deep = False
    if metadata is not None and not isinstance(metadata, dict):
        problem("metadata", f"must be an object or null, got {_type_name(metadata)}")
    elif metadata is not None and _depth(metadata) > MAX_METADATA_DEPTH:
        problem("metadata", f"nested deeper than {MAX_METADATA_DEPTH} levels")
        too_deep = True
    for key, value in obj.items():
        if key == "metadata" and too_deep:
            continue
        reason = _bad_character(key) or _bad_character(value)
        if reason:
            problem(_printable_key(key), reason)
        elif key != "latency_ms" and _non_finite(value):  # latency is checked above
            problem(key, "contains a number that is not finite")
    if problems:
        usable_id = (
            sample_id
            if isinstance(sample_id, str) and sample_id.strip() and not _bad_character(sample_id)
            else None
        )
        if usable_id is not None:
            problems = [Problem(p.file, p.line, p.field, p.reason, usable_id) for p in problems]
        return None, problems
    values = dict(obj)
    if parsed_created_at is not None:
        values["created_at"] = parsed_created_at
    if latency is not None:
        values["latency_ms"] = float(latency) + 0.0  # -0.0 is stored as 0
    return Record(_row_from_values(line, values)), []


def read_records(source: Path | BinaryIO, label: str | None = None) -> Iterator[Record | Problem]:
    """Yield each record, or each problem, in line order, reading `source` (a path, or
    a binary stream such as standard input or a pipe) once; memory stays bounded (one
    chunk of CHUNK_BYTES, and a line of at most MAX_LINE_BYTES).

    One parser (ADR 0005): every line is decoded by `json` (duplicate keys, NaN and
    Infinity refused) and checked against the contract, every problem reported.
    """
    file = label or str(source)
    if isinstance(source, Path):
        try:
            handle: BinaryIO = source.open("rb")
        except OSError as exc:
            yield Problem(file, None, None, f"cannot read: {exc.strerror or exc}")
            return
    else:
        handle = source
    records = problems = 0
    line_number = 1
    skipping = False  # inside a line longer than MAX_LINE_BYTES: drop it up to its end
    too_long = f"line longer than {MAX_LINE_BYTES:,} bytes"
    with handle:
        pending = handle.read(3)
        if pending == b"\xef\xbb\xbf":
            pending = b""
        while True:
            block = handle.read(CHUNK_BYTES)
            if skipping:
                if not block:
                    break
                end_of_line = block.find(b"\n")
                if end_of_line < 0:
                    continue
                skipping = False
                line_number += 1
                block = block[end_of_line + 1 :]
                pending = b""
            if block:
                carried = len(pending)
                block = pending + block if pending else block
                end = block.rfind(b"\n") + 1
                first_end = block.find(b"\n") if carried else -1
                if (end == 0 and len(block) > MAX_LINE_BYTES) or first_end > MAX_LINE_BYTES:
                    problems += 1
                    yield Problem(file, line_number, None, too_long)
                    if end == 0:
                        skipping, pending = True, b""
                        continue
                    block = block[first_end + 1 :]
                    line_number += 1
                    end = block.rfind(b"\n") + 1
                    if end == 0:
                        pending = block
                        continue
                if end == 0:
                    pending = block  # a line longer than a chunk: read on
                    continue
                chunk, pending = block[:end], block[end:]
            elif pending:
                chunk, pending = pending, b""  # the last line has no line end
                if len(chunk) > MAX_LINE_BYTES:
                    problems += 1
                    yield Problem(file, line_number, None, too_long)
                    break
            else:
                break
            lines = chunk.split(b"\n")
            if chunk.endswith(b"\n"):
                lines.pop()  # what follows the last line end is not a line
            for raw in lines:
                for item in _parse_line(raw, file, line_number):
                    if isinstance(item, Record):
                        records += 1
                    else:
                        problems += 1
                    yield item
                line_number += 1
    if records == 0 and problems == 0:
        yield Problem(file, None, None, "no records (the file is empty or has only blank lines)")


def _parse_line(raw: bytes, file: str, line_number: int) -> Iterator[Record | Problem]:
    """Every problem of the line, or its record."""
    if b"\x00" in raw:
        yield Problem(file, line_number, None, "contains a NUL byte")
        return
    if not raw.strip():
        return
    try:
        text = raw.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        yield Problem(file, line_number, None, f"invalid UTF-8 at byte {exc.start + 1} of the line")
        return
    try:
        obj = _DECODER.decode(text)
    except _DuplicateKey as exc:
        yield Problem(
            file, line_number, _duplicate_path(text) or str(exc), "duplicate key in one object"
        )
        return
    except json.JSONDecodeError as exc:
        yield Problem(file, line_number, None, f"invalid JSON: {exc.msg} (column {exc.colno})")
        return
    except ValueError as exc:
        reason = str(exc)
        if "integer string conversion" in reason:  # Python's limit on int() of text
            reason = f"a number of more than {sys.get_int_max_str_digits():,} digits"
        yield Problem(file, line_number, None, f"invalid JSON: {reason}")
        return
    except RecursionError:
        yield Problem(file, line_number, None, "invalid JSON: nested too deeply")
        return
    record, problems = validate_object(obj, file, line_number)
    if record is None:
        yield from problems
    else:
        yield record
