"""The canary rollout: `canary evaluate`, `canary step`, `simulate`, `drill rollback`.

Each command declared once (`@command`: name, help, exit codes, options), beside
its handler, which takes the parsed arguments, calls the library, prints what a
formatter renders, and returns the exit code."""

from __future__ import annotations

import argparse
import sys

from ai_gate.cli.arguments import (
    INT4_MAX,
    add_arms,
    bounded_integer,
    duration_argument,
    run_id_argument,
)
from ai_gate.cli.common import DONE, connect_announced
from ai_gate.cli.registry import command
from ai_gate.errors import (
    EXIT_GATE_FAILED,
    EXIT_INCONCLUSIVE,
    EXIT_INPUT_REJECTED,
    EXIT_OK,
    EXIT_RUNTIME_FAILURE,
    EXIT_USAGE,
    UsageError,
)
from ai_gate.formatters import decision_text, text
from ai_gate.formatters import json as json_format
from ai_gate.rollout import actions, canary, drill
from ai_gate.rollout.arms import ArmNames, read_arms
from ai_gate.telemetry import simulate
from ai_gate.telemetry.simulate import SCENARIOS


@command(
    "canary",
    "Canary rollout: evaluate the canary against the baseline; step it.",
    exits={EXIT_USAGE: None},
    subcommands="canary_command",
)
def cmd_canary_missing_subcommand(args: argparse.Namespace) -> int:
    raise UsageError("ai-gate canary: give a subcommand: evaluate or step")


def _canary_evaluate_arguments(p: argparse.ArgumentParser) -> None:
    add_arms(p)
    window = p.add_mutually_exclusive_group()
    window.add_argument(
        "--since",
        type=duration_argument,
        metavar="DURATION",
        help="a fixed telemetry and eval window ending now, e.g. 30m, 6h, judged as one look "
        "(default: the rollout so far, since the canary started serving, at most 14 days)",
    )
    window.add_argument(
        "--run-id",
        type=run_id_argument,
        metavar="ID",
        help="take quality from this eval run (telemetry: the rollout so far)",
    )
    p.add_argument(
        "--apply",
        action="store_true",
        help="on a rollback decision, record the rollback in the flag change log",
    )
    p.add_argument(
        "--include-synthetic",
        action="store_true",
        help="count synthetic rows from `ai-gate simulate` (dry runs): the decision is "
        "stored marked synthetic, and neither `canary step` nor --apply acts on it",
    )
    p.add_argument("--json", action="store_true", help="print the decision as JSON")


@command(
    "canary evaluate",
    "Compare the canary arm with the baseline arm and decide go, hold, rollback or "
    "inconclusive (exit 0, 2, 2, 4); the decision is stored with its inputs. "
    "Synthetic rows are left out unless --include-synthetic.",
    exits={
        EXIT_OK: "go",
        EXIT_RUNTIME_FAILURE: None,
        EXIT_GATE_FAILED: "hold or rollback",
        EXIT_INPUT_REJECTED: None,
        EXIT_INCONCLUSIVE: "inconclusive: keep collecting (the decision is stored)",
        EXIT_USAGE: None,
    },
    arguments=_canary_evaluate_arguments,
)
def cmd_canary_evaluate(args: argparse.Namespace) -> int:
    if args.apply and args.include_synthetic:
        raise UsageError(
            "ai-gate canary evaluate: --apply cannot be combined with --include-synthetic "
            "(a decision on synthetic rows never moves real traffic)"
        )
    database = connect_announced()
    decision, _ = canary.evaluate(
        database,
        ArmNames(args.env, args.canary, args.baseline),
        since=args.since,
        run_id=args.run_id,
        actor=args.actor,
        include_synthetic=args.include_synthetic,
    )
    render = json_format.decision if args.json else decision_text.decision_text
    sys.stdout.write(render(decision))
    if args.apply:
        recorded = actions.apply_rollback(database, decision, args.actor)
        sys.stdout.write(text.rollback_applied(decision, recorded))
        if recorded is not None:
            sys.stdout.write(text.configs(recorded.configs))
    return decision.exit_code


def _canary_step_arguments(p: argparse.ArgumentParser) -> None:
    add_arms(p)


@command(
    "canary step",
    "Move the canary to the rollout plan's next share of traffic; only after a go "
    "decision newer than the canary's last flag change.",
    exits={EXIT_OK: DONE, EXIT_RUNTIME_FAILURE: None, EXIT_INPUT_REJECTED: None, EXIT_USAGE: None},
    arguments=_canary_step_arguments,
)
def cmd_canary_step(args: argparse.Namespace) -> int:
    database = connect_announced()
    result = actions.step(database, ArmNames(args.env, args.canary, args.baseline), args.actor)
    sys.stdout.write(text.step(result))
    sys.stdout.write(text.configs(result.recorded.configs))
    return EXIT_OK


def _simulate_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--scenario",
        required=True,
        choices=sorted(SCENARIOS),
        help="the canary's behaviour to simulate (required)",
    )
    p.add_argument(
        "--rows",
        type=bounded_integer(1, 10_000_000),
        default=10_000,
        metavar="N",
        help="telemetry rows (default 10000)",
    )
    p.add_argument(
        "--seed",
        type=bounded_integer(0, INT4_MAX),
        default=1,
        metavar="S",
        help="random seed: the same scenario, rows and seed give the same data (default 1)",
    )
    add_arms(p)


@command(
    "simulate",
    "Write deterministic synthetic canary telemetry and eval samples (marked "
    "synthetic) within the hour before now, for dry runs and demos.",
    exits={EXIT_OK: DONE, EXIT_RUNTIME_FAILURE: None, EXIT_INPUT_REJECTED: None, EXIT_USAGE: None},
    arguments=_simulate_arguments,
)
def cmd_simulate(args: argparse.Namespace) -> int:
    database = connect_announced()
    result = simulate.simulate(
        database,
        args.scenario,
        args.rows,
        args.seed,
        read_arms(database, args.env, args.canary, args.baseline),
    )
    sys.stdout.write(text.simulation(result))
    return EXIT_OK


@command(
    "drill",
    "Operational drills.",
    exits={EXIT_USAGE: None},
    subcommands="drill_command",
)
def cmd_drill_missing_subcommand(args: argparse.Namespace) -> int:
    raise UsageError("ai-gate drill: give a subcommand: rollback")


def _drill_rollback_arguments(p: argparse.ArgumentParser) -> None:
    add_arms(p, env_default=None)
    p.add_argument("--json", action="store_true", help="print the evidence as JSON")


@command(
    "drill rollback",
    "Rehearse the canary rollback: record the flags, roll back, verify nothing routes "
    "to the canary, restore exactly, verify; store the evidence. Exit 1 if a step "
    "failed.",
    exits={
        EXIT_OK: DONE,
        EXIT_RUNTIME_FAILURE: "a drill step failed (or the database did)",
        EXIT_INPUT_REJECTED: None,
        EXIT_USAGE: None,
    },
    arguments=_drill_rollback_arguments,
)
def cmd_drill_rollback(args: argparse.Namespace) -> int:
    database = connect_announced()
    arms = read_arms(database, args.env, args.canary, args.baseline)
    evidence = drill.rollback_drill(database, arms, args.actor)
    sys.stdout.write(json_format.drill(evidence) if args.json else text.drill(evidence))
    return EXIT_OK if evidence.succeeded else EXIT_RUNTIME_FAILURE
