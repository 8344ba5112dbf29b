"""What one `ai-gate daily` did: each record file's outcome, the canary's decision,
the reports written, and the exit code that follows. Below the formatters (text.py
renders it) and above nothing that renders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from ai_gate.errors import (
    EXIT_GATE_FAILED,
    EXIT_INCONCLUSIVE,
    EXIT_INPUT_REJECTED,
    EXIT_OK,
    EXIT_RUNTIME_FAILURE,
)
from ai_gate.evals.verdicts import RunVerdict
from ai_gate.jsonable import JsonFields
from ai_gate.rollout import canary


@dataclass(frozen=True)
class FileOutcome(JsonFields):
    """What became of one record file."""

    file: str
    outcome: str  # passed | failed | inconclusive | rejected | error
    run_id: str | None = None
    reused: bool = False
    message: str | None = None
    problems: tuple[str, ...] = ()


@dataclass
class DailyOutcome:
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    files: list[FileOutcome] = field(default_factory=list)
    runs: list[RunVerdict] = field(default_factory=list)
    decision: canary.Decision | None = None
    canary_skipped: str | None = None
    # the report files this daily run wrote (names in the report folder)
    reports: list[str] = field(default_factory=list)
    # what stopped the daily run before its end, and the exit code that gives
    error: str | None = None
    error_exit_code: int | None = None

    @property
    def exit_code(self) -> int:
        if self.error_exit_code is not None:
            return self.error_exit_code
        outcomes = {file.outcome for file in self.files}
        decision = self.decision.decision if self.decision else None
        if "failed" in outcomes or decision in ("hold", "rollback"):
            return EXIT_GATE_FAILED
        if "error" in outcomes:
            return EXIT_RUNTIME_FAILURE
        if "rejected" in outcomes:
            return EXIT_INPUT_REJECTED
        if decision == "inconclusive" or "inconclusive" in outcomes:
            return EXIT_INCONCLUSIVE
        return EXIT_OK

    def as_json(self) -> dict[str, object]:
        return {
            "exit_code": self.exit_code,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "error": self.error,
            "reports": self.reports,
            "files": [file.as_json() for file in self.files],
            "canary": (
                {
                    "decision_id": self.decision.decision_id,
                    "decision": self.decision.decision,
                    "exit_code": self.decision.exit_code,
                }
                if self.decision
                else {"skipped": self.canary_skipped}
            ),
        }
