"""`ai-gate dossier` for a person: the terminal's text and Markdown. Each routing change
with what it did to each provider (before -> after), the decision in force, the eval
runs behind it and the last drill."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ai_gate.rollout.dossier import DossierEntry

FIELDS = ("enabled", "is_default", "weight")


def _value(value: object) -> str:
    return "unset" if value is None else str(value).lower()


def change_lines(entry: DossierEntry) -> list[str]:
    """One line per provider the change set wrote: the fields it changed."""
    lines = []
    for change in entry.changes:
        before = change.get("before") or {}
        moved = [
            f"{field} {_value(before.get(field))} -> {_value(change.get(field))}"  # type: ignore[union-attr]
            for field in FIELDS
            if before.get(field) != change.get(field)  # type: ignore[union-attr]
        ]
        lines.append(
            f"{change['provider']} (change #{change['change_id']}): "
            + (", ".join(moved) or "no routing field changed")
        )
    return lines


def decision_line(entry: DossierEntry) -> str:
    if entry.decision_id is None:
        return "no canary decision stored before it"
    return (
        f"decision #{entry.decision_id} {entry.decision} at {entry.decided_at:%Y-%m-%d %H:%M} "
        f"UTC ({entry.canary} against {entry.baseline})"
    )


def run_lines(entry: DossierEntry) -> list[str]:
    if entry.decision_id is None:
        return []
    if not entry.eval_runs:
        return ["the decision read no canary eval run (telemetry only)"]
    return [
        f"eval run {run['run_id']}: {run.get('status') or 'not found'}, "
        f"{run.get('samples') if run.get('samples') is not None else '?'} samples of the arms, "
        f"{run.get('source_file')} sha256 {run.get('source_sha256')}"
        for run in entry.eval_runs
    ]


def drill_line(entry: DossierEntry) -> str:
    if entry.drill_id is None:
        return "no rollback drill finished before it"
    outcome = "succeeded" if entry.drill_succeeded else "failed"
    finished = f"{entry.drill_finished_at:%Y-%m-%d %H:%M} UTC"
    return f"last drill {entry.drill_id} {outcome}, finished {finished}"


def _headline(environment: str, start: datetime, end: datetime, count: int) -> str:
    changes = f"{count:,} routing change{'' if count == 1 else 's'}"
    return (
        f"release dossier of {environment}, {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} "
        f"UTC: {changes}"
    )


def text(environment: str, start: datetime, end: datetime, entries: Sequence[DossierEntry]) -> str:
    lines = [_headline(environment, start, end, len(entries))]
    for entry in entries:
        lines += [
            "",
            f"{entry.changed_at:%Y-%m-%d %H:%M} UTC by {entry.changed_by} via "
            f"{entry.changed_via}: {entry.reason}",
            *(f"  {line}" for line in change_lines(entry)),
            f"  {decision_line(entry)}",
            *(f"    {line}" for line in run_lines(entry)),
            f"  {drill_line(entry)}",
        ]
    return "\n".join(lines) + "\n"


def markdown(
    environment: str, start: datetime, end: datetime, entries: Sequence[DossierEntry]
) -> str:
    lines = [
        f"## Release dossier: {environment}",
        "",
        _headline(environment, start, end, len(entries)),
    ]
    for entry in entries:
        lines += [
            "",
            f"### {entry.changed_at:%Y-%m-%d %H:%M} UTC · {entry.changed_by} · "
            f"`{entry.changed_via}`",
            "",
            f"> {entry.reason}",
            "",
            *(f"- {line}" for line in change_lines(entry)),
            f"- {decision_line(entry)}",
            *(f"  - {line}" for line in run_lines(entry)),
            f"- {drill_line(entry)}",
        ]
    return "\n".join(lines) + "\n"
