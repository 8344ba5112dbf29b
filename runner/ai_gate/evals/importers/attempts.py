"""What every tool's file is read into: attempts of cases, with their check results, and
the importer each tool's module declares (its name, how its file is told, how it is
read, where an attempt is in it)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ai_gate.errors import InputRejected


@dataclass(frozen=True)
class Attempt:
    """One result of the tool: a case tried once by one provider."""

    sample_id: str  # unique in the file
    case_id: str
    provider: str | None
    repeat: int  # 1, 2, ... among the attempts of the same case, prompt and provider
    results: dict[str, bool | None]  # the tool's check name -> passed (None: no result)
    error: str | None  # the attempt errored (no output, or a check could not run)
    latency_ms: float | None
    created_at: str | None
    where: str  # how to find it in the file, for messages
    # usage, when the tool reports it (docs/cost.md): None is not reported, never 0
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost_usd: float | None = None
    model: str | None = None


@dataclass
class ToolFile:
    """A tool's file being read: its attempts, streamed once (`attempts`), and what it
    says about itself, complete once they have been read."""

    tool: str
    attempts: Iterator[Attempt]
    tool_version: str | None = None
    eval_id: str | None = None
    file_sha256: str | None = None
    # set while the attempts are read (the header a tool writes after its results)
    details: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Importer:
    """One tool's format: `format` is its --format name, `what` how messages name its
    file, `detect` tells it from the top-level keys of a file's head, `checks` lists the
    check names a file holds (a pass of its own, reading names only), `read` streams
    its attempts."""

    format: str
    what: str
    detect: Callable[[frozenset[str]], bool]
    checks: Callable[[Path, str], set[str]]
    read: Callable[[Path, str], ToolFile]


def expect(condition: bool, label: str, where: str, message: str) -> None:
    """Reject the file unless `condition`: FILE: WHERE: MESSAGE."""
    if not condition:
        raise InputRejected(f"{label}: {where}: {message}")


def type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def verdict(value: object, label: str, where: str) -> bool:
    """A check's pass or fail, which a tool writes as a JSON boolean."""
    expect(
        isinstance(value, bool),
        label,
        where,
        f"must be true or false, got {value!r} ({type_name(value)})",
    )
    return bool(value)


def milliseconds(value: object, factor: float, label: str, where: str) -> float | None:
    if value is None:
        return None
    expect(
        isinstance(value, int | float) and not isinstance(value, bool) and value >= 0,
        label,
        where,
        f"a duration must be a number >= 0, got {value!r}",
    )
    return round(float(value) * factor, 3)  # type: ignore[arg-type]


def token_count(value: object, label: str, where: str) -> int:
    """A tool's token count: a whole number >= 0 (a JSON number, read as a float)."""
    expect(
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and value >= 0
        and float(value).is_integer()
        and value < 2**63,
        label,
        where,
        f"a token count must be a whole number >= 0, got {value!r}",
    )
    return int(value)  # type: ignore[arg-type]


def dollars(value: object, label: str, where: str) -> float:
    """A tool's cost in US dollars: a finite number >= 0."""
    expect(
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and 0 <= value < float("inf"),
        label,
        where,
        f"a cost must be a number >= 0, got {value!r}",
    )
    return float(value)  # type: ignore[arg-type]
