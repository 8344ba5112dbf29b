"""Routing flags: `flags`, `flags set`, `flags history`.

Each command declared once (`@command`: name, help, exit codes, options), beside
its handler, which takes the parsed arguments, calls the library, prints what a
formatter renders, and returns the exit code."""

from __future__ import annotations

import argparse
import sys

from ai_gate.actor import default_actor
from ai_gate.cli.arguments import bounded_integer, integer
from ai_gate.cli.common import DONE, connect_announced
from ai_gate.cli.registry import command
from ai_gate.errors import (
    EXIT_INPUT_REJECTED,
    EXIT_OK,
    EXIT_RUNTIME_FAILURE,
    EXIT_USAGE,
    UsageError,
)
from ai_gate.formatters import json as json_format
from ai_gate.formatters import text
from ai_gate.routing.change_log import FlagChange, change_history, record_change
from ai_gate.routing.configuration import (
    effective_configuration,
    require_known_environment,
    unknown_environment,
)


def _flags_show_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--env", dest="show_env", metavar="ENV", help="only this environment")
    p.add_argument("--json", action="store_true", help="print JSON")


@command(
    "flags",
    "Show the effective routing configuration; `set` and `history` change and audit it.",
    exits={EXIT_OK: DONE, EXIT_RUNTIME_FAILURE: None, EXIT_INPUT_REJECTED: None, EXIT_USAGE: None},
    arguments=_flags_show_arguments,
    subcommands="flags_command",
)
def cmd_flags_show(args: argparse.Namespace) -> int:
    database = connect_announced()
    configs = effective_configuration(database, args.show_env)
    if not configs and args.show_env:
        raise unknown_environment(
            args.show_env, {c.environment for c in effective_configuration(database)}
        )
    sys.stdout.write(json_format.configs(configs) if args.json else text.configs(configs))
    return EXIT_OK


def _flags_set_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("provider")
    p.add_argument("--env", required=True, metavar="ENV", help="environment (required)")
    toggle = p.add_mutually_exclusive_group()
    toggle.add_argument(
        "--enable", dest="enable", action="store_const", const=True, help="enable the provider"
    )
    toggle.add_argument(
        "--disable",
        dest="enable",
        action="store_const",
        const=False,
        help="disable the provider (refused if that breaks a routing invariant)",
    )
    p.add_argument("--weight", type=integer, metavar="N", help="routing weight (0 to 2147483647)")
    p.add_argument(
        "--default",
        action="store_true",
        help="make this provider the environment's default (the old one stops being it)",
    )
    p.add_argument(
        "--timeout-ms", type=integer, metavar="N", help="request timeout (1 to 2147483647)"
    )
    p.add_argument("--max-retries", type=integer, metavar="N", help="retries (0 to 2147483647)")
    p.add_argument(
        "--reason",
        required=True,
        help="why (recorded; required; one line, at most 500 characters)",
    )
    p.add_argument(
        "--actor",
        help="who (default: AI_GATE_ACTOR, else the OS user; one line, at most 500 characters)",
    )
    p.add_argument(
        "--confirm-traffic",
        action="store_true",
        help="acknowledge a change that moves traffic toward the canary outside `canary "
        "step` (raises its share, makes it the default, or leaves a provider that is not "
        "the default serving the majority); recorded in the audit log. Moves toward safety "
        "need none",
    )


@command(
    "flags set",
    "Record an audited change of one provider's routing flags in one environment and "
    "say what it does to the traffic shares. Refused, with nothing written, if it would "
    "break a routing invariant or move traffic toward the canary unacknowledged.",
    exits={EXIT_OK: DONE, EXIT_RUNTIME_FAILURE: None, EXIT_INPUT_REJECTED: None, EXIT_USAGE: None},
    arguments=_flags_set_arguments,
)
def cmd_flags_set(args: argparse.Namespace) -> int:
    if (
        args.enable is None
        and not args.default
        and all(value is None for value in (args.weight, args.timeout_ms, args.max_retries))
    ):
        raise UsageError(
            "ai-gate flags set: nothing to change: give at least one of --enable, --disable, "
            "--weight, --default, --timeout-ms, --max-retries"
        )
    change = FlagChange(
        provider=args.provider,
        environment=args.env,
        reason=args.reason,
        actor=default_actor() if args.actor is None else args.actor,
        enabled=args.enable,
        make_default=args.default,
        weight=args.weight,
        timeout_ms=args.timeout_ms,
        max_retries=args.max_retries,
    )
    database = connect_announced()
    recorded = record_change(database, change, confirm_traffic=args.confirm_traffic)
    sys.stdout.write(text.recorded_change(args.env, args.provider, recorded))
    sys.stdout.write(text.configs(recorded.configs))
    return EXIT_OK


def _flags_history_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--env", metavar="ENV", help="only this environment")
    p.add_argument(
        "--limit",
        type=bounded_integer(1, 100_000),
        default=50,
        metavar="N",
        help="at most N changes (default 50)",
    )
    p.add_argument("--json", action="store_true", help="print JSON")


@command(
    "flags history",
    "Print the audited change log, newest first.",
    exits={EXIT_OK: DONE, EXIT_RUNTIME_FAILURE: None, EXIT_INPUT_REJECTED: None, EXIT_USAGE: None},
    arguments=_flags_history_arguments,
)
def cmd_flags_history(args: argparse.Namespace) -> int:
    database = connect_announced()
    if args.env is not None:
        require_known_environment(database, args.env)
    entries = change_history(database, args.env, args.limit)
    sys.stdout.write(json_format.history(entries) if args.json else text.history(entries))
    return EXIT_OK
