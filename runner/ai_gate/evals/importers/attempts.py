"""What every tool's file is read into: attempts of cases, with their check results."""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class ToolFile:
    tool: str
    tool_version: str | None
    eval_id: str | None
    attempts: list[Attempt]

    def check_names(self) -> set[str]:
        return {name for attempt in self.attempts for name in attempt.results}


def expect(condition: bool, label: str, where: str, message: str) -> None:
    """Reject the file unless `condition`: FILE: WHERE: MESSAGE."""
    if not condition:
        raise InputRejected(f"{label}: {where}: {message}")


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
