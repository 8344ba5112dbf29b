"""Reading another tool's JSON file a piece at a time (ijson over yajl, in C): its head,
to tell what it is, and the items under one prefix, to import them. Memory stays
bounded by the largest item, whatever the file's size; a truncated or malformed file is
named as such, with the byte where reading stopped.

Like the record reader, it refuses what Python's `json` would let through: NaN and
Infinity (yajl rejects them); a number of more digits than Python converts is refused,
not a traceback; nothing recurses, however deep the nesting. A key given twice in one
object keeps its last value, as the tools' own readers (JavaScript's JSON.parse,
Python's json) read their files; checking each key in Python would cost more than the
rest of the import.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import ijson

from ai_gate.errors import InputRejected

# The head read to tell a file's format: enough for any tool's top-level keys.
HEAD_BYTES = 65536
# How deep the head's parse follows nesting before it stops looking.
MAX_DEPTH = 64
# What is read of a file's end for a value a tool writes after its results.
TAIL_BYTES = 1 << 20
ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class Head:
    """What the first HEAD_BYTES of a file say: its first JSON value's top-level keys
    (those within the head), and whether that value is an object."""

    raw: bytes
    keys: frozenset[str]
    is_object: bool
    # the head holds the whole file, and it is one JSON value (not JSONL)
    is_one_document: bool = False

    @property
    def is_zip(self) -> bool:
        return self.raw.startswith(ZIP_MAGIC)


def read_head(path: Path, label: str) -> Head:
    """The head of `path`, parsed as far as it goes: never recursion, never the whole
    file, never an error (what it cannot tell, it leaves out)."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(HEAD_BYTES)
    except OSError as exc:
        raise InputRejected(f"{label}: cannot read: {exc.strerror or exc}") from exc
    keys: set[str] = set()
    is_object = False
    depth = 0
    values = 0  # top-level values begun
    whole = False  # the first value ended within the head
    try:
        # use_float: ijson 3.6 in C crashes on an integer of more digits than Python
        # converts (4,300); with it, yajl refuses one beyond 64 bits as an overflow
        events = ijson.parse(io.BytesIO(raw), multiple_values=True, use_float=True)
        for prefix, event, value in events:
            if depth == 0:
                values += 1
                if values > 1:
                    break  # a second value: JSONL
            if event in ("start_map", "start_array"):
                if depth == 0:
                    is_object = event == "start_map"
                depth += 1
                if depth > MAX_DEPTH:
                    break
            elif event in ("end_map", "end_array"):
                depth -= 1
                whole = depth == 0
            elif event == "map_key" and depth == 1 and prefix == "":
                keys.add(value)
    except (ijson.JSONError, ValueError, UnicodeDecodeError):
        pass  # the head ends mid-value, or the file is not JSON: as far as it went
    one_document = whole and values == 1 and len(raw) < HEAD_BYTES
    return Head(raw, frozenset(keys), is_object, one_document)


class HashingFile(io.RawIOBase):
    """A file read once, each byte hashed on the way (the run stores the tool file's
    SHA-256 as it was read)."""

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle
        self.digest = hashlib.sha256()
        self.position = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self.digest.update(data)
        self.position += len(data)
        return data

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._handle.close()
        super().close()


class Items:
    """Each object under `prefix` (ijson's prefix syntax, e.g. `results.results.item`),
    numbered from 0, built one at a time as the file is read once; `sha256` is the whole
    file's once the iteration has ended."""

    def __init__(self, path: Path, prefix: str, label: str, what: str) -> None:
        self.path, self.prefix, self.label, self.what = path, prefix, label, what
        self.array = prefix.rsplit(".item", 1)[0]
        self.sha256: str | None = None

    def __iter__(self) -> Iterator[tuple[int, dict]]:
        try:
            raw = self.path.open("rb")
        except OSError as exc:
            raise InputRejected(f"{self.label}: cannot read: {exc.strerror or exc}") from exc
        reader = HashingFile(raw)
        with reader:
            iterator = ijson.items(reader, self.prefix, use_float=True)
            index = 0
            while True:
                try:
                    item = next(iterator)
                except StopIteration:
                    break
                except (ijson.JSONError, ValueError, UnicodeDecodeError) as exc:
                    raise json_error(exc, reader.position, self.label, self.what) from None
                yield index, item
                index += 1
            # read to the end, so that the digest is of the whole file
            while reader.read(1 << 20):
                pass
            self.sha256 = reader.digest.hexdigest()


def values(path: Path, prefix: str, label: str, what: str) -> Iterator[object]:
    """Every value under `prefix`, in a pass of its own (for small values: names)."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputRejected(f"{label}: cannot read: {exc.strerror or exc}") from exc
    reader = HashingFile(handle)
    with reader:
        try:
            yield from ijson.items(reader, prefix, use_float=True)
        except (ijson.JSONError, ValueError, UnicodeDecodeError) as exc:
            raise json_error(exc, reader.position, label, what) from None


def tail_string(path: Path, key: str, label: str) -> str | None:
    """The string value of `key` written near the end of a file (a tool's version,
    which promptfoo writes after its results), read from the last TAIL_BYTES only:
    None when it is not there. The key's last unescaped occurrence is taken."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, io.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - TAIL_BYTES))
            tail = handle.read().decode("utf-8", errors="replace")
    except OSError as exc:
        raise InputRejected(f"{label}: cannot read: {exc.strerror or exc}") from exc
    for match in reversed(list(re.finditer(rf'(?<!\\)"{re.escape(key)}"\s*:\s*', tail))):
        try:
            value, _ = json.JSONDecoder().raw_decode(tail, match.end())
        except ValueError:
            continue
        return value if isinstance(value, str) else None
    return None


def first_value(path: Path, prefix: str, label: str, what: str) -> object:
    """The value at `prefix` (a scalar or a small object), or None: a pass of its own."""
    try:
        with path.open("rb") as handle:
            for value in ijson.items(handle, prefix, use_float=True):
                return value
    except OSError as exc:
        raise InputRejected(f"{label}: cannot read: {exc.strerror or exc}") from exc
    except (ijson.JSONError, ValueError, UnicodeDecodeError) as exc:
        raise json_error(exc, None, label, what) from None
    return None


def json_error(exc: BaseException, position: int | None, label: str, what: str) -> InputRejected:
    """A reading error as the user's file and what is wrong with it: truncated, or not
    JSON near a byte (yajl reads in blocks: the byte where the block it failed in ends)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    at = f" at byte {position:,}" if position is not None else ""
    if "premature EOF" in text or ("Incomplete" in type(exc).__name__ and "EOF" in text):
        return InputRejected(f"{label}: truncated JSON{at} ({what}?); nothing was written")
    if "integer string conversion" in text or "Exceeds the limit" in text:
        text = "a number with more digits than can be read"
    return InputRejected(f"{label}: invalid JSON{at} ({what}?): {text}; nothing was written")
