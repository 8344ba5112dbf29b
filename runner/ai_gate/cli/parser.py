"""The command line, built from the commands declared in cli/commands/ (each with
its options, help and exit codes, cli/registry.py)."""

from __future__ import annotations

import argparse

from ai_gate import __version__
from ai_gate.cli import commands  # noqa: F401  (importing it declares the commands)
from ai_gate.cli.arguments import Parser
from ai_gate.cli.registry import COMMANDS, Command
from ai_gate.errors import EXIT_CODE_MEANINGS

DATABASE_HELP = """\
database: DATABASE_URL, else the PG* variables (PGHOST, PGPORT, PGUSER, PGPASSWORD,
PGDATABASE), else an embedded PostgreSQL in AI_GATE_DATA_DIR (default: a per-user
data directory). AI_GATE_SCHEMA names the schema (default public).
"""


def exit_codes_help(exits: dict[int, str | None]) -> str:
    lines = ["exit codes:"]
    for code, meaning in exits.items():
        lines.append(f"  {code:<3} {meaning or EXIT_CODE_MEANINGS[code]}")
    return "\n".join(lines) + "\n\n" + DATABASE_HELP


def build_parser() -> Parser:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = Parser(
        prog="ai-gate",
        description="Provider routing controls, routing telemetry tests and release gates.",
        epilog=exit_codes_help(dict.fromkeys(sorted(EXIT_CODE_MEANINGS))),
        formatter_class=formatter,
    )
    parser.add_argument("--version", action="version", version=f"ai-gate {__version__}")
    groups = {(): parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)}
    groups[()].required = True

    def add(declared: Command) -> None:
        sub = groups[declared.path[:-1]].add_parser(
            declared.path[-1],
            help=declared.help,
            description=declared.help,
            epilog=exit_codes_help(declared.exits),
            formatter_class=formatter,
        )
        sub.set_defaults(handler=declared.handler)
        if declared.arguments is not None:
            declared.arguments(sub)
        if declared.subcommands is not None:
            groups[declared.path] = sub.add_subparsers(
                dest=declared.subcommands, metavar="SUBCOMMAND", parser_class=Parser
            )

    # commands before subcommands: a group's parser exists before its members are added
    for declared in sorted(COMMANDS, key=lambda declared: len(declared.path)):
        add(declared)
    return parser
