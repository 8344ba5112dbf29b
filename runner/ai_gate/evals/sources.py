"""What `ai-gate run` ingests, as one stream of records: an eval records file (JSONL,
a path or standard input), or another tool's results file turned into records as it is
read (importers). Either way the file is read once, its records validated by the one
record contract (records.validate_object), and its problems named by the user's file and
where in it (a line, or a place in the tool's JSON), never by a file of ours.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from ai_gate.errors import InputRejected, RuntimeFailure
from ai_gate.evals import importers
from ai_gate.evals.record_reader import read_records
from ai_gate.evals.records import Problem, Record, validate_object
from ai_gate.files import STREAM_PREFIXES

STDIN_LABEL = "<stdin>"


class _HashingReader:
    """A binary stream that hashes every byte read through it: the stored hash is of
    exactly the bytes that were validated and ingested, read once (a file appended to
    while it is read, a pipe, standard input)."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self.digest.update(data)
        return data

    def __enter__(self) -> _HashingReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self._raw.close()


class RecordsFile:
    """An eval records file (JSONL): a path, `-` for standard input, or a pipe."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.label = STDIN_LABEL if str(path) == "-" else str(path)
        self.sha256 = ""
        self.source: dict[str, object] | None = None
        self.reading: dict[str, object] | None = None

    @property
    def source_file(self) -> str:
        """The name stored with the run: the file's name; `stdin`; a stream's whole path
        (`<(cat f)` is `/dev/fd/63`: its last part alone names nothing)."""
        if self.label == STDIN_LABEL:
            return "stdin"
        return (
            str(self.path)
            if str(self.path.absolute()).startswith(STREAM_PREFIXES)
            else (self.path.name)
        )

    def first_seen(self, line: int) -> str:
        """Where a repeated sample_id was first seen, for the duplicate's message."""
        return f"first on line {line}"

    def location(self, line: int) -> str | None:
        """Where record `line` is, in place of FILE:LINE (None: FILE:LINE is right)."""
        return None

    def records(self) -> Iterator[Record | Problem]:
        with self._open() as source:
            yield from read_records(source, self.label)  # type: ignore[arg-type]
            self.sha256 = source.digest.hexdigest()

    def _open(self) -> _HashingReader:
        if str(self.path) == "-":
            try:
                return _HashingReader(os.fdopen(os.dup(sys.stdin.fileno()), "rb"))
            except (AttributeError, ValueError, OSError) as exc:  # stdin closed, or none
                raise RuntimeFailure(
                    "cannot read the records from standard input (`-`): it is closed; "
                    "pipe the records in, or give a file"
                ) from exc
        try:
            return _HashingReader(self.path.open("rb"))
        except OSError as exc:
            raise InputRejected(f"{self.path}: cannot read: {exc.strerror or exc}") from exc


class ImportedFile:
    """Another tool's results file, each attempt turned into a record as it is read.
    The run's hash is the tool file's (what `sha256sum` says of it); how it was read
    (its format, the map, the error policy) is part of the run's identity beside it."""

    def __init__(self, path: Path, fmt: str, mapping: dict[str, str] | None, on_error: str) -> None:
        self.path = path
        self.label = str(path)
        self.importer = importers.importer_named(fmt)
        self.conversion = importers.convert(self.importer, path, mapping, on_error)
        self.sha256 = ""
        self.source: dict[str, object] | None = None
        self._places: dict[int, str] = {}

    @property
    def source_file(self) -> str:
        return self.path.name

    def place(self, line: int) -> str:
        """Where attempt number `line` (1-based) is in the tool's file."""
        return self._places.get(line, f"attempt {line}")

    def first_seen(self, line: int) -> str:
        return f"first at {self.place(line)}"

    def location(self, line: int) -> str | None:
        return f"{self.label}: {self.place(line)}"

    def records(self) -> Iterator[Record | Problem]:
        number = 0
        for attempt, record in self.conversion.records():
            if record is None:
                continue
            number += 1
            valid, problems = validate_object(record, self.label, number)
            if problems:
                place = f"{self.label}: {attempt.where}"
                yield from (
                    Problem(p.file, p.line, p.field, p.reason, p.sample_id, place) for p in problems
                )
                self._places[number] = attempt.where
            else:
                assert valid is not None
                yield valid
            if number <= MAX_PLACES:
                self._places[number] = attempt.where
        self.source = self.conversion.finish()
        self.sha256 = str(self.source["file_sha256"])
        self.reading = source_reading(self.source)


def source_reading(source: dict[str, object] | None) -> dict[str, object] | None:
    """How another tool's file was read as records (from a run's `metadata.source`):
    what decides its records besides the file itself; None for a records file."""
    if not source:
        return None
    return {name: source.get(name) for name in ("format", "map", "on_error")}


# Where the first attempts are, for messages about duplicates (found after staging).
MAX_PLACES = 100_000


def open_source(
    path: Path, fmt: str | None, map_file: Path | None, on_error: str
) -> RecordsFile | ImportedFile:
    """The records of `path`: as `fmt`, else as its head says (importers)."""
    found = importers.resolve_format(path, fmt)
    if found == importers.RECORDS:
        if map_file is not None:
            raise InputRejected("--map applies to the results of another tool, not to eval records")
        return RecordsFile(path)
    return ImportedFile(path, found, importers.load_map(map_file), on_error)
