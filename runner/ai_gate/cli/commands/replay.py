"""Asking the past: `replay` (every stored eval run of a window judged again, under
its stored policy or a proposed one) and `dossier` (each routing change's story).

Each command declared once (`@command`: name, help, exit codes, options), beside
its handler, which takes the parsed arguments, calls the library, prints what a
formatter renders, and returns the exit code."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ai_gate.cli.arguments import confidence_argument, duration_argument, report_path
from ai_gate.cli.common import connect_announced
from ai_gate.cli.registry import command
from ai_gate.errors import (
    EXIT_GATE_FAILED,
    EXIT_INPUT_REJECTED,
    EXIT_OK,
    EXIT_RUNTIME_FAILURE,
    EXIT_USAGE,
    RuntimeFailure,
    UsageError,
)
from ai_gate.evals import replay
from ai_gate.files import write_output
from ai_gate.formatters import dossier as dossier_format
from ai_gate.formatters import json as json_format
from ai_gate.formatters import replay as replay_format
from ai_gate.rollout.dossier import read_dossier
from ai_gate.routing.configuration import require_known_environment
from ai_gate.stats import parse_duration


def _environment_and_window(p: argparse.ArgumentParser, what: str) -> None:
    """--env and --since (90 days by default): whose past, and how far back."""
    p.add_argument("--env", default="prod", metavar="ENV", help="environment (default prod)")
    p.add_argument(
        "--since",
        type=duration_argument,
        default=parse_duration("90d"),
        metavar="DURATION",
        help=f"{what} in this window ending now, e.g. 7d, 90d (default 90d)",
    )


def _replay_arguments(p: argparse.ArgumentParser) -> None:
    _environment_and_window(p, "the runs started")
    p.add_argument(
        "--thresholds",
        type=Path,
        metavar="FILE.yml",
        help="proposed thresholds: the file `ai-gate run --thresholds` takes (gate name to "
        "a number, or null: off), laid over each run's stored thresholds",
    )
    p.add_argument(
        "--confidence",
        type=confidence_argument,
        metavar="C",
        help="proposed: judge every run on one-sided bounds at confidence C (default: "
        "each run's stored policy)",
    )
    p.add_argument(
        "--policy",
        type=Path,
        metavar="FILE.yml",
        help="instead of --thresholds and --confidence: a proposed policy in one file "
        "(sections thresholds, min_samples, confidence; docs/replay.md)",
    )
    p.add_argument(
        "--fail-on-change",
        action="store_true",
        help="exit 2 when the proposal changes any run's or gate's status (for a pull "
        "request that edits the thresholds)",
    )
    p.add_argument("--json", action="store_true", help="print JSON (every run, changed first)")
    p.add_argument(
        "--report-md", type=report_path, metavar="PATH", help="also write a Markdown summary"
    )


@command(
    "replay",
    "Judge every stored eval run of a window again from its stored samples, under the "
    "policy each run stored (it must come out as stored) or a proposed one "
    "(--thresholds, --confidence, or --policy), and list the runs whose verdicts would "
    "change; and re-derive every stored canary decision of the window from its "
    "evidence and the data under its stored policy. "
    "Read-only: it writes no row.",
    exits={
        EXIT_OK: "the replay ran (under a proposal: whatever it changes, without --fail-on-change)",
        EXIT_RUNTIME_FAILURE: "a run replayed under its stored policy is not judged as "
        "stored, or a canary decision is not re-derived as stored: the record and the "
        "data disagree",
        EXIT_GATE_FAILED: "--fail-on-change: the proposal changes a verdict",
        EXIT_INPUT_REJECTED: None,
        EXIT_USAGE: None,
    },
    arguments=_replay_arguments,
)
def cmd_replay(args: argparse.Namespace) -> int:
    if args.policy is not None and (args.thresholds is not None or args.confidence is not None):
        raise UsageError(
            "ai-gate replay: give --policy, or --thresholds and --confidence, not both"
        )
    database = connect_announced()
    require_known_environment(database, args.env)
    proposal = replay.read_proposal(database, args.thresholds, args.confidence, args.policy)
    result = replay.replay_runs(database, args.env, args.since, proposal)
    render = json_format.replay if args.json else replay_format.text
    sys.stdout.write(render(result))
    if args.report_md is not None:
        try:
            write_output(args.report_md, replay_format.markdown(result))
        except OSError as exc:
            raise RuntimeFailure(f"cannot write {args.report_md}: {exc.strerror or exc}") from exc
    if result.discrepancies:
        listed = ", ".join(
            f"{run.run_id} (stored {run.stored_status}, replayed {run.replayed_status})"
            for run in result.discrepancies[:10]
        )
        more = len(result.discrepancies) - 10
        raise RuntimeFailure(
            f"{len(result.discrepancies)} run(s) replayed under their stored policies are "
            f"not judged as stored (the record and the data disagree): {listed}"
            + (f" and {more} more" if more > 0 else "")
        )
    if result.decision_discrepancies:
        listed = ", ".join(
            f"#{d.decision_id} ({d.discrepancies[0]})" for d in result.decision_discrepancies[:5]
        )
        raise RuntimeFailure(
            f"{len(result.decision_discrepancies)} canary decision(s) are not re-derived as "
            f"stored (the record and the data disagree): {listed}"
        )
    if args.fail_on_change and (result.changed or result.decisions_changed):
        return EXIT_GATE_FAILED
    return EXIT_OK


def _dossier_arguments(p: argparse.ArgumentParser) -> None:
    _environment_and_window(p, "the routing changes made")
    output = p.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print JSON")
    output.add_argument("--md", action="store_true", help="print Markdown")


@command(
    "dossier",
    "Each routing change of an environment, newest first: who changed what (before -> "
    "after), when and why; the canary decision in force when it was made, the canary "
    "eval runs that decision read (with their files' SHA-256) and the last rollback "
    "drill before it (the view ai_release_dossier).",
    exits={EXIT_OK: "printed", EXIT_RUNTIME_FAILURE: None, EXIT_INPUT_REJECTED: None,
           EXIT_USAGE: None},
    arguments=_dossier_arguments,
)  # fmt: skip
def cmd_dossier(args: argparse.Namespace) -> int:
    database = connect_announced()
    require_known_environment(database, args.env)
    start, end, entries = read_dossier(database, args.env, args.since)
    render = (
        json_format.dossier if args.json else dossier_format.markdown if args.md
        else dossier_format.text
    )  # fmt: skip
    sys.stdout.write(render(args.env, start, end, entries))
    return EXIT_OK
