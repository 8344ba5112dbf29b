"""inspect-ai's logs: a JSON log (`inspect eval --log-format json`) or the `.eval` log
inspect writes by default (a zip archive whose members, one per sample, are compressed
with zstd, which Python's zipfile cannot read: the `zstandard` package decompresses them).

One attempt per sample and epoch. A check is a scorer's value: `C`/`I`, true/false or
1/0; a scorer that returns several values gives one check per key (`scorer.key`). An
errored sample (`error` set) has no scores. A log whose status is not `success` (an
evaluation that errored, was cancelled or is still running) is refused: its samples are
not the whole run. Samples are read one at a time.
"""

from __future__ import annotations

import hashlib
import json
import struct
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from ai_gate.errors import InputRejected
from ai_gate.evals.importers import json_stream
from ai_gate.evals.importers.attempts import (
    Attempt,
    Importer,
    ToolFile,
    dollars,
    expect,
    milliseconds,
    token_count,
)
from ai_gate.evals.records import reject_json_constant

LETTERS = {"C": True, "I": False}
WHAT = "an inspect-ai log (JSON or .eval)"
ZSTD = 93  # the zip compression method of zstd
ZIP_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")


def detect(keys: frozenset[str]) -> bool:
    return {"eval", "version"} <= keys


def _verdict(value: object, label: str, where: str) -> bool:
    if isinstance(value, bool):  # before int: True is an int too
        return value
    if isinstance(value, str) and value in LETTERS:
        return LETTERS[value]
    is_number = isinstance(value, int | float)
    expect(
        is_number and value in (0, 1),
        label,
        where,
        f"a score must be C or I, true or false, 1 or 0 to be a check; got {value!r}",
    )
    return value == 1


def _score_names(scores: object) -> set[str]:
    """The checks a sample's scores give: a scorer's name, or `scorer.key` for each of
    the values of one that returns several."""
    names: set[str] = set()
    for scorer, score in (scores if isinstance(scores, dict) else {}).items():
        value = score.get("value") if isinstance(score, dict) else None
        names |= {f"{scorer}.{key}" for key in value} if isinstance(value, dict) else {scorer}
    return names


def _checks(sample: dict, label: str, where: str) -> dict[str, bool | None]:
    checks: dict[str, bool | None] = {}
    for scorer, score in (sample.get("scores") or {}).items():
        value = (score or {}).get("value")
        if isinstance(value, dict):
            for key, item in value.items():
                checks[f"{scorer}.{key}"] = _verdict(item, label, f"{where}.scores.{scorer}")
        else:
            checks[scorer] = _verdict(value, label, f"{where}.scores.{scorer}")
    return checks


def _attempt(sample: object, header: dict, label: str, where: str) -> Attempt:
    expect(isinstance(sample, dict) and "id" in sample, label, where, "no sample id")
    assert isinstance(sample, dict)
    epoch = sample.get("epoch", 1)
    expect(
        isinstance(epoch, int) and not isinstance(epoch, bool) and epoch >= 1,
        label,
        f"{where}.epoch",
        f"must be a whole number >= 1, got {epoch!r}",
    )
    error = sample.get("error")
    return Attempt(
        sample_id=f"{sample['id']}#{epoch}",
        case_id=str(sample["id"]),
        provider=(sample.get("output") or {}).get("model") or header.get("model"),
        repeat=int(epoch),
        results=_checks(sample, label, where),
        error=str(error.get("message") or "error")
        if isinstance(error, dict) and error
        else (str(error) if error else None),
        latency_ms=milliseconds(sample.get("total_time"), 1000.0, label, where),
        created_at=header.get("created"),
        where=where,
        **_usage(sample.get("model_usage"), label, f"{where}.model_usage"),
    )


def _usage(usage: object, label: str, where: str) -> dict[str, object]:
    """A sample's usage, summed over the models it called (`model_usage`: model ->
    ModelUsage). Input tokens are inspect's `input_tokens` plus its cache reads and
    writes (which it counts apart); the cost is `total_cost` when every model gives
    one, else not reported (unknown, or priced from the tokens); the model when one."""
    if not isinstance(usage, dict) or not usage:
        return {}
    input_tokens = output_tokens = 0
    costs: list[float] = []
    for model, counts in usage.items():
        at = f"{where}[{json.dumps(model)}]"
        expect(isinstance(counts, dict), label, at, "not an object")
        for name in ("input_tokens", "input_tokens_cache_read", "input_tokens_cache_write"):
            input_tokens += token_count(counts.get(name) or 0, label, f"{at}.{name}")
        output_tokens += token_count(counts.get("output_tokens") or 0, label, f"{at}.output_tokens")
        if counts.get("total_cost") is not None:
            costs.append(dollars(counts["total_cost"], label, f"{at}.total_cost"))
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cost_usd": sum(costs) if len(costs) == len(usage) else None,
        "model": next(iter(usage)) if len(usage) == 1 else None,
    }


def _require_complete(status: object, error: object, label: str) -> None:
    if status == "success":
        return
    detail = ""
    if isinstance(error, dict) and error.get("message"):
        detail = f": {str(error['message']).splitlines()[0]}"
    said = "has no status" if status is None else f"has status {status!r}"
    raise InputRejected(
        f"{label}: the inspect-ai log {said}, not 'success' (the evaluation did not "
        f"finish{detail}): its samples are not the whole run; run the evaluation again "
        "(inspect eval-retry LOG resumes it); nothing was written"
    )


def _header(eval_spec: object, tool_file: ToolFile) -> dict:
    spec = eval_spec if isinstance(eval_spec, dict) else {}
    tool_file.tool_version = (spec.get("packages") or {}).get("inspect_ai")
    tool_file.eval_id = spec.get("eval_id")
    return spec


def _json_attempts(path: Path, label: str, tool_file: ToolFile) -> Iterator[Attempt]:
    status = json_stream.first_value(path, "status", label, WHAT)
    _require_complete(status, json_stream.first_value(path, "error", label, WHAT), label)
    header = _header(json_stream.first_value(path, "eval", label, WHAT), tool_file)
    found = False
    samples = json_stream.Items(path, "samples.item", label, WHAT)
    for index, sample in samples:
        found = True
        yield _attempt(sample, header, label, f"samples[{index}]")
    tool_file.file_sha256 = samples.sha256
    if not found and json_stream.first_value(path, "samples", label, WHAT) is None:
        raise InputRejected(
            f"{label}: samples: the log has no samples (a header-only log: write it with its "
            "samples); nothing was written"
        )


# --- the .eval archive -------------------------------------------------------------------


def _member(handle: object, info: zipfile.ZipInfo, label: str) -> bytes:
    """One member's bytes, decompressed: zstd by `zstandard`, the rest by zipfile."""
    assert hasattr(handle, "seek") and hasattr(handle, "read")
    handle.seek(info.header_offset)
    fields = ZIP_LOCAL_HEADER.unpack(handle.read(ZIP_LOCAL_HEADER.size))
    name_length, extra_length = fields[9], fields[10]
    handle.seek(info.header_offset + ZIP_LOCAL_HEADER.size + name_length + extra_length)
    data = handle.read(info.compress_size)
    if info.compress_type == zipfile.ZIP_STORED:
        return data
    if info.compress_type == ZSTD:
        import zstandard

        try:
            return zstandard.ZstdDecompressor().decompressobj().decompress(data)
        except zstandard.ZstdError as exc:
            raise InputRejected(f"{label}: {info.filename}: not zstd data ({exc})") from exc
    if info.compress_type == zipfile.ZIP_DEFLATED:
        import zlib

        return zlib.decompress(data, -15)
    raise InputRejected(
        f"{label}: {info.filename}: compression method {info.compress_type} is not one an "
        "inspect-ai log uses"
    )


def _member_json(handle: object, info: zipfile.ZipInfo, label: str) -> object:
    try:
        return json.loads(_member(handle, info, label), parse_constant=reject_json_constant)
    except (ValueError, RecursionError) as exc:
        raise InputRejected(f"{label}: {info.filename}: not JSON ({exc})") from exc


def _sample_order(name: str) -> tuple[str, int]:
    """samples/<id>_epoch_<n>.json -> (id, n): the log's order of samples."""
    stem = name.removeprefix("samples/").removesuffix(".json")
    sample_id, _, epoch = stem.rpartition("_epoch_")
    return (sample_id, int(epoch)) if epoch.isdigit() else (stem, 0)


@contextmanager
def _open_archive(path: Path, label: str) -> Iterator[tuple[BinaryIO, dict[str, zipfile.ZipInfo]]]:
    """The archive's file and its members by name."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputRejected(f"{label}: cannot read: {exc.strerror or exc}") from exc
    with handle:
        try:
            archive = zipfile.ZipFile(handle)
        except zipfile.BadZipFile as exc:
            raise InputRejected(
                f"{label}: not a whole zip archive ({exc}; {WHAT}?); nothing was written"
            ) from exc
        yield handle, {info.filename: info for info in archive.infolist()}


def _sample_members(members: dict[str, zipfile.ZipInfo]) -> list[str]:
    samples = (name for name in members if name.startswith("samples/") and name.endswith(".json"))
    return sorted(samples, key=_sample_order)


def _archive_attempts(path: Path, label: str, tool_file: ToolFile) -> Iterator[Attempt]:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as raw:
            for block in iter(lambda: raw.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise InputRejected(f"{label}: cannot read: {exc.strerror or exc}") from exc
    with _open_archive(path, label) as (handle, members):
        if "header.json" not in members:
            raise InputRejected(
                f"{label}: an .eval archive without header.json: the evaluation has not "
                "finished writing it (or it is not an inspect-ai log); nothing was written"
            )
        header_log = _member_json(handle, members["header.json"], label)
        expect(isinstance(header_log, dict), label, "header.json", "not an object")
        assert isinstance(header_log, dict)
        _require_complete(header_log.get("status"), header_log.get("error"), label)
        header = _header(header_log.get("eval"), tool_file)
        for name in _sample_members(members):
            sample = _member_json(handle, members[name], label)
            yield _attempt(sample, header, label, name)
    tool_file.file_sha256 = digest.hexdigest()


def checks(path: Path, label: str) -> set[str]:
    if json_stream.read_head(path, label).is_zip:
        return _archive_checks(path, label)
    names: set[str] = set()
    for scores in json_stream.values(path, "samples.item.scores", label, WHAT):
        names |= _score_names(scores)
    return names


def _archive_checks(path: Path, label: str) -> set[str]:
    """From the archive's summaries.json (every sample's scores, small), else from the
    samples themselves."""
    names: set[str] = set()
    with _open_archive(path, label) as (handle, members):
        summary = members.get("summaries.json")
        if summary is not None:
            for sample in _member_json(handle, summary, label) or []:
                names |= _score_names(sample.get("scores") if isinstance(sample, dict) else None)
            return names
        for name in _sample_members(members):
            sample = _member_json(handle, members[name], label)
            names |= _score_names(sample.get("scores") if isinstance(sample, dict) else None)
    return names


def read(path: Path, label: str) -> ToolFile:
    tool_file = ToolFile("inspect-ai", iter(()))
    head = json_stream.read_head(path, label)
    reader = _archive_attempts if head.is_zip else _json_attempts
    tool_file.attempts = reader(path, label, tool_file)
    return tool_file


IMPORTER = Importer("inspect", WHAT, detect, checks, read)
