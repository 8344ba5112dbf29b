"""Writing an eval run's reports: the one home for it, below `ai-gate run`/`check`
(report paths the user names) and `ai-gate daily` (one set per record file).

Each format renders the stored verdict; the Markdown one ends with the trend of the
environment's last runs. A report that cannot be written is returned as an error
line, for the caller to show; it never changes the verdict."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from ai_gate.database import Database
from ai_gate.evals.verdicts import RunVerdict, recent_gate_history
from ai_gate.files import write_output
from ai_gate.formatters import json as json_format
from ai_gate.formatters import junit, markdown

# format -> the suffix `ai-gate daily` names its files with
SUFFIXES = {"json": ".json", "markdown": ".md", "junit": ".xml"}


def renderers(database: Database, environment: str) -> dict[str, Callable[[RunVerdict], str]]:
    def markdown_with_trend(verdict: RunVerdict) -> str:
        return markdown.verdict_report(verdict, recent_gate_history(database, environment))

    return {
        "json": json_format.verdict_report,
        "markdown": markdown_with_trend,
        "junit": junit.verdict_report,
    }


def write_verdict_reports(
    database: Database, verdict: RunVerdict, targets: Mapping[str, Path | str]
) -> list[str]:
    """Write `verdict` in each format to its target (format -> path, `-` for standard
    output; files.write_output says how each kind of path is written). Returns an
    error line per report that could not be written."""
    render = renderers(database, verdict.environment)
    errors = []
    for format_name, path in targets.items():
        try:
            write_output(path, render[format_name](verdict))
        except OSError as exc:
            errors.append(f"cannot write report {path}: {exc.strerror or exc}")
    return errors
