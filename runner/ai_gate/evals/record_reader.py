"""Reading an eval records file: a JSONL file (or standard input, a pipe) read once, a
chunk at a time, each line decoded by Python's json (duplicate keys, NaN and Infinity
refused) and checked against the record contract (records.validate_object): every
record or problem yielded in line order, memory bounded by one chunk and one line.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from ai_gate.evals.records import Problem, Record, reject_json_constant, validate_object

# Bytes read at a time; about 2,500 records of a typical size.
CHUNK_BYTES = 1 << 20
# A record is a few hundred bytes; a longer line is refused, not buffered (a 50 MB
# line once cost 246 MB). Equal to the chunk size, so only a line carried over from
# one chunk into the next can exceed it (read_records relies on that).
MAX_LINE_BYTES = CHUNK_BYTES


class _DuplicateKey(ValueError):
    pass


def _pairs_without_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


_DECODER = json.JSONDecoder(
    object_pairs_hook=_pairs_without_duplicates, parse_constant=reject_json_constant
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
