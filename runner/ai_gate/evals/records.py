"""Evaluation records: strict, streaming validation of a JSONL file.

One JSON object per line; the contract is docs/eval-record.schema.json. A UTF-8 BOM,
CRLF line ends and blank lines are accepted. Everything else that is not exactly the
contract is a problem reported as `FILE:LINE: field: reason`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, BinaryIO

import msgspec
from psycopg.types.json import Jsonb

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
# PostgreSQL types of SAMPLE_COLUMNS, for binary COPY (about 2.5 times cheaper per row
# on the client than text COPY, which matters at hundreds of thousands of rows/s).
SAMPLE_COPY_TYPES = (
    "text",
    "int4",
    "text",
    "bool",
    "bool",
    "bool",
    "bool",
    "bool",
    "bool",
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
_ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    field: str | None
    reason: str
    # The line's sample_id, when it had a usable one: a rejected line's id still
    # counts when looking for duplicates.
    sample_id: str | None = None

    def render(self) -> str:
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


class _FastRecord(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, gc=False):
    """The contract as a typed struct, fields in SAMPLE_COLUMNS order (without
    line_number): msgspec checks types and bounds strictly, in C (a number that overflows
    a float is rejected, not made infinite). UNSET marks an absent field, so the keys
    present can be counted (see _fast_rows). Not tracked by the cyclic collector: a
    decoded record holds no cycles."""

    sample_id: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_SAMPLE_ID_LENGTH)]
    case_id: str | msgspec.UnsetType | None = msgspec.UNSET
    schema_valid: bool
    safety_html_tailwind_compliant: bool
    patch_apply_success: bool | msgspec.UnsetType | None = msgspec.UNSET
    edit_after_generate: bool | msgspec.UnsetType | None = msgspec.UNSET
    publish_conversion: bool | msgspec.UnsetType | None = msgspec.UNSET
    fallback_used: bool | msgspec.UnsetType | None = msgspec.UNSET
    latency_ms: Annotated[float, msgspec.Meta(ge=0)] | msgspec.UnsetType | None = msgspec.UNSET
    requested_provider: str | msgspec.UnsetType | None = msgspec.UNSET
    selected_provider: str | msgspec.UnsetType | None = msgspec.UNSET
    route_strategy: str | msgspec.UnsetType | None = msgspec.UNSET
    prompt_template_version: str | msgspec.UnsetType | None = msgspec.UNSET
    created_at: str | msgspec.UnsetType | None = msgspec.UNSET
    metadata: dict | msgspec.UnsetType | None = msgspec.UNSET


_FAST_DECODER = msgspec.json.Decoder(_FastRecord)
_FIELD_COUNT = len(_FastRecord.__struct_fields__)
assert _FastRecord.__struct_fields__ == tuple(c for c in SAMPLE_COLUMNS if c != "line_number")


class _TooDeep(ValueError):
    pass


def _count_keys(value: object, depth: int = 1) -> int:
    """Keys in `value` and everything inside it; _TooDeep past MAX_METADATA_DEPTH."""
    if depth > MAX_METADATA_DEPTH:
        raise _TooDeep()
    if isinstance(value, dict):
        return len(value) + sum(_count_keys(v, depth + 1) for v in value.values())
    if isinstance(value, list):
        return sum(_count_keys(v, depth + 1) for v in value)
    return 0


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


def _fast_rows(lines: list[bytes], first_line: int) -> tuple[list[Record], int] | None:
    """The records of lines that each decode as exactly the contract, and the number of
    keys decoded (metadata's nested keys included); None means "not sure" about some
    line. The caller rules out _has_suspects and compares the key count with the `":`
    count. One loop over the lines, without a call per line of our own: at hundreds of
    thousands of lines a second, every Python-level step counts."""
    decode = _FAST_DECODER.decode
    as_tuple = msgspec.structs.astuple
    unset = msgspec.UNSET
    records: list[Record] = []
    append = records.append
    from_iso_format = datetime.fromisoformat
    previous_created_at_text, previous_created_at = None, None
    keys = 0
    line_number = first_line
    try:
        for raw in lines:
            values = as_tuple(decode(raw))
            (
                sample_id,
                case_id,
                schema_valid,
                safety_html_tailwind_compliant,
                patch_apply_success,
                edit_after_generate,
                publish_conversion,
                fallback_used,
                latency_ms,
                requested_provider,
                selected_provider,
                route_strategy,
                prompt_template_version,
                created_at,
                metadata,
            ) = values
            if sample_id.isspace():
                return None
            absent = values.count(unset)
            keys += _FIELD_COUNT - absent
            if absent:
                case_id = None if case_id is unset else case_id
                patch_apply_success = None if patch_apply_success is unset else patch_apply_success
                edit_after_generate = None if edit_after_generate is unset else edit_after_generate
                publish_conversion = None if publish_conversion is unset else publish_conversion
                fallback_used = None if fallback_used is unset else fallback_used
                latency_ms = None if latency_ms is unset else latency_ms
                requested_provider = None if requested_provider is unset else requested_provider
                selected_provider = None if selected_provider is unset else selected_provider
                route_strategy = None if route_strategy is unset else route_strategy
                prompt_template_version = (
                    None if prompt_template_version is unset else prompt_template_version
                )
                created_at = None if created_at is unset else created_at
                metadata = None if metadata is unset else metadata
            if created_at is not None:
                # records of one batch often share a timestamp: parse each new one once
                if created_at != previous_created_at_text:
                    try:
                        parsed = from_iso_format(created_at)
                    except ValueError:
                        return None
                    if parsed.tzinfo is None:
                        return None
                    previous_created_at_text, previous_created_at = created_at, parsed
                created_at = previous_created_at
            if latency_ms is not None:
                latency_ms += 0.0  # -0.0 is stored as 0
            if metadata is not None:
                if metadata:
                    keys += _count_keys(metadata)
                    if _non_finite(metadata):
                        return None
                metadata = Jsonb(metadata)
            append(
                Record(
                    (
                        sample_id,
                        line_number,
                        case_id,
                        schema_valid,
                        safety_html_tailwind_compliant,
                        patch_apply_success,
                        edit_after_generate,
                        publish_conversion,
                        fallback_used,
                        latency_ms,
                        requested_provider,
                        selected_provider,
                        route_strategy,
                        prompt_template_version,
                        created_at,
                        metadata,
                    )
                )
            )
            line_number += 1
    except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return None
    except _TooDeep:
        return None
    return records, keys


def _fast_record(raw: bytes, line_number: int) -> Record | None:
    """The common case, fast: a line that is exactly the contract. None means "not
    sure": the line then takes the precise slow path, which reports problems. A line
    (without its line end) is a chunk of one line."""
    records = _fast_chunk(raw, line_number)
    return records[0] if records else None


def _has_suspects(data: bytes) -> bool:
    """Bytes that send a line (or a chunk of lines) to the precise path: a raw NUL or
    an escaped one (PostgreSQL text cannot hold it), and whitespace after a quote,
    which could hide a duplicate key from the `":` count (`"k" :`). A one-byte search
    is a memchr, many times cheaper than a two-byte one on JSON (where quotes are
    everywhere), so each two-byte search runs only if its rarer byte occurs at all."""
    if b"\x00" in data:
        return True
    if b"\\" in data and (b"\\u0000" in data or _ESCAPED_SURROGATE.search(data)):
        return True
    return any(byte in data and b'"' + byte in data for byte in (b" ", b"\t", b"\r"))


def _fast_chunk(chunk: bytes, first_line: int) -> list[Record] | None:
    """Every line of a chunk of whole lines by the fast path, or None if any line is not
    sure. The byte scans run once on the chunk.

    msgspec keeps the last of duplicate keys, so duplicates are ruled out by counting:
    every key in the text is followed by `":`, so when the count of `":` equals the
    number of keys decoded, no key was repeated (whitespace between a key and its colon
    is a suspect that sends the chunk to the slow path; `":` inside a string makes the
    counts differ, which does too). The chunk's count equals the sum of the keys
    decoded only if it does on every line (a line's count is never below its keys).
    """
    if _has_suspects(chunk):
        return None
    lines = chunk.split(b"\n")
    if chunk.endswith(b"\n"):
        lines.pop()  # what follows the last line end is not a line
    decoded = _fast_rows(lines, first_line)
    if decoded is None or chunk.count(b'":') != decoded[1]:
        return None
    return decoded[0]


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

    A chunk of whole lines that is all ordinary lines takes _fast_chunk; any other
    chunk is read line by line (fast path, else the precise path that reports).
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
            fast = _fast_chunk(chunk, line_number)
            if fast is not None:
                records += len(fast)
                yield from fast
                line_number += len(fast)
                continue
            lines = chunk.split(b"\n")
            if chunk.endswith(b"\n"):
                lines.pop()  # what follows the last line end is not a line
            for raw in lines:
                record = _fast_record(raw, line_number)
                if record is not None:
                    records += 1
                    yield record
                else:
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
    """The precise slow path: every problem of the line, or the record."""
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
