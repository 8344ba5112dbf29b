"""Eval runs: `run` and `check`, and the verdict reports they write.

Each command declared once (`@command`: name, help, exit codes, options), beside
its handler, which takes the parsed arguments, calls the library, prints what a
formatter renders, and returns the exit code."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ai_gate import verdict_reports
from ai_gate.cli.arguments import (
    add_report_options,
    baseline_argument,
    confidence_argument,
    run_id_argument,
)
from ai_gate.cli.common import connect_announced
from ai_gate.cli.registry import command
from ai_gate.database import Database
from ai_gate.errors import (
    EXIT_GATE_FAILED,
    EXIT_INCONCLUSIVE,
    EXIT_INPUT_REJECTED,
    EXIT_OK,
    EXIT_RUNTIME_FAILURE,
    EXIT_USAGE,
    UsageError,
)
from ai_gate.evals import importers, ingest, runs, verdicts
from ai_gate.evals.ingest import RUN_TYPES
from ai_gate.files import is_standard_output
from ai_gate.formatters import text
from ai_gate.routing.configuration import require_known_environment

# A stored verdict's exit code; `running` and `aborted` are not verdicts.
VERDICT_EXIT_CODES = {
    "passed": EXIT_OK,
    "failed": EXIT_GATE_FAILED,
    "inconclusive": EXIT_INCONCLUSIVE,
}


def emit_verdict(verdict: verdicts.RunVerdict, args: argparse.Namespace, database: Database) -> int:
    """Write every requested rendering of the stored verdict; the exit code follows it.
    A report that cannot be written is an error line, and never hides the verdict: a
    failed or inconclusive run keeps its exit code; a passed one exits 1 (an output it
    was asked for is missing)."""
    requested = {
        name: path
        for name, path in (
            ("json", args.report_json),
            ("markdown", args.report_md),
            ("junit", args.junit),
        )
        if path is not None
    }
    errors = verdict_reports.write_verdict_reports(database, verdict, requested)
    for error in errors:
        sys.stderr.write(f"ai-gate: {error}\n")
    # a report written to standard output (`-`, /dev/stdout, the file it is redirected
    # to) keeps it to itself: the text report goes to stderr
    on_stdout = any(is_standard_output(path) for path in requested.values())
    (sys.stderr if on_stdout else sys.stdout).write(text.verdict_report(verdict))
    code = VERDICT_EXIT_CODES.get(verdict.status, EXIT_RUNTIME_FAILURE)
    return EXIT_RUNTIME_FAILURE if errors and code == EXIT_OK else code


def _run_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "file",
        help="JSONL eval records (docs/eval-record.schema.json), - for standard input; or "
        "the results file of promptfoo, inspect-ai or deepeval (docs/importers.md)",
    )
    p.add_argument("--env", default="prod", metavar="ENV", help="environment (default prod)")
    p.add_argument(
        "--format",
        choices=importers.FORMATS,
        help="the file's format (default: told from its content; a file of another "
        "format is rejected)",
    )
    p.add_argument(
        "--map",
        metavar="MAP.yml",
        help="another tool's file: ai-gate field -> the tool's check name (default: every "
        "ai-gate field whose own name is a check of the file)",
    )
    p.add_argument(
        "--on-error",
        choices=importers.ON_ERROR,
        default="fail",
        help="another tool's file: an errored attempt fails every check it has no result "
        "for (fail, the default) or is left out (skip); either way it is counted",
    )
    p.add_argument(
        "--run-type",
        default="offline",
        choices=RUN_TYPES,
        help="what kind of run this is (default offline)",
    )
    p.add_argument(
        "--thresholds",
        metavar="FILE.yml",
        help="YAML mapping gate name to a number (or null: gate off); overrides "
        "the environment's thresholds for this run",
    )
    p.add_argument(
        "--run-id",
        type=run_id_argument,
        metavar="ID",
        help="default: a hash of the file and the verdict-affecting options",
    )
    p.add_argument(
        "--strict", action="store_true", help="a skipped gate (metric without data) fails the run"
    )
    p.add_argument(
        "--baseline",
        type=baseline_argument,
        metavar="RUN_ID|latest-passed",
        help="also compare every rate metric with this run of the environment (or its "
        "newest passed, non-synthetic run): a regression beyond the metric's tolerance, "
        "significant after Holm's correction, fails the run (docs/eval-gates.md)",
    )
    p.add_argument(
        "--confidence",
        type=confidence_argument,
        metavar="C",
        help="judge each gate on one-sided bounds at confidence C (e.g. 0.95): pass when the "
        "bound clears the threshold, fail when the other bound misses it, inconclusive "
        "(exit 4) between (default: the environment's setting in ai_eval_thresholds, "
        "else the point estimate)",
    )
    p.add_argument(
        "--triggered-by",
        metavar="WHO",
        help="who or what started the run (default AI_GATE_ACTOR, else the OS user)",
    )
    p.add_argument("--ci-job-id", metavar="ID", help="default GITHUB_RUN_ID or CI_JOB_ID")
    p.add_argument("--git-sha", metavar="SHA", help="default GITHUB_SHA or CI_COMMIT_SHA")
    add_report_options(p)


@command(
    "run",
    "Validate a JSONL file of eval records, ingest it as one run, judge it against "
    "the release gates and report. Exit 0 pass, 2 gate failed, 3 input rejected.",
    exits={
        EXIT_OK: "every evaluated gate passed",
        EXIT_RUNTIME_FAILURE: None,
        EXIT_GATE_FAILED: "a gate failed (or was skipped, with --strict)",
        EXIT_INPUT_REJECTED: None,
        EXIT_INCONCLUSIVE: "confidence policy: a gate's threshold lies between its bounds",
        EXIT_USAGE: None,
    },
    arguments=_run_arguments,
)
def cmd_run(args: argparse.Namespace) -> int:
    database = connect_announced()
    require_known_environment(database, args.env)
    options = ingest.RunOptions(
        path=Path(args.file),
        environment=args.env,
        run_type=args.run_type,
        thresholds_file=Path(args.thresholds) if args.thresholds else None,
        run_id=args.run_id,
        strict=args.strict,
        triggered_by=args.triggered_by,
        ci_job_id=args.ci_job_id,
        git_sha=args.git_sha,
        confidence=args.confidence,
        baseline=args.baseline,
        format=args.format,
        map_file=Path(args.map) if args.map else None,
        on_error=args.on_error,
    )
    verdict = runs.run_evaluation(database, options, progress=sys.stderr)
    return emit_verdict(verdict, args, database)


def _check_arguments(p: argparse.ArgumentParser) -> None:
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--run-id", type=run_id_argument, metavar="ID", help="the run to report again"
    )
    which.add_argument("--latest", action="store_true", help="the most recently started run")
    p.add_argument("--env", metavar="ENV", help="with --latest: only this environment")
    p.add_argument(
        "--json",
        action="store_true",
        help="print the JSON report on standard output (the text report goes to stderr); "
        "the same as --report-json -",
    )
    add_report_options(p)


@command(
    "check",
    "Report a stored run's verdict again (database only, no dbt), with the same "
    "outputs and exit codes as `run`.",
    exits={
        EXIT_OK: "every evaluated gate passed",
        EXIT_RUNTIME_FAILURE: None,
        EXIT_GATE_FAILED: "a gate failed (or was skipped, with --strict)",
        EXIT_INPUT_REJECTED: "no such run",
        EXIT_INCONCLUSIVE: "confidence policy: a gate's threshold lies between its bounds",
        EXIT_USAGE: None,
    },
    arguments=_check_arguments,
)
def cmd_check(args: argparse.Namespace) -> int:
    if args.json:
        if args.report_json is not None:
            raise UsageError("ai-gate check: give --json or --report-json, not both")
        args.report_json = Path("-")
    database = connect_announced()
    if args.env is not None:
        require_known_environment(database, args.env)
    run_id = args.run_id or verdicts.latest_run_id(database, args.env)
    verdict = verdicts.load_verdict(database, run_id)
    if verdict.status == "running":
        sys.stderr.write(f"ai-gate: run {run_id} has not finished (status running)\n")
    return emit_verdict(verdict, args, database)
