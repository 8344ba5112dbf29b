"""The commands, each declared once beside its handler (cli/commands/, by family): its name,
help, options and the exit codes it can return. cli/parser.py builds argparse from
this list, and each command's --help lists exactly its exit codes."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

Handler = Callable[[argparse.Namespace], int]


@dataclass(frozen=True)
class Command:
    name: str  # "run", or "canary evaluate" for a subcommand
    handler: Handler
    help: str
    # every exit code it can return -> what it means here (None: the general meaning)
    exits: dict[int, str | None]
    arguments: Callable[[argparse.ArgumentParser], None] | None = None
    subcommands: str | None = None  # a group: the namespace attribute of its subcommand

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(self.name.split())


COMMANDS: list[Command] = []


def command(
    name: str,
    help: str,
    *,
    exits: dict[int, str | None],
    arguments: Callable[[argparse.ArgumentParser], None] | None = None,
    subcommands: str | None = None,
) -> Callable[[Handler], Handler]:
    """Declare the decorated handler as the command `name`."""

    def register(handler: Handler) -> Handler:
        COMMANDS.append(Command(name, handler, help, exits, arguments, subcommands))
        return handler

    return register
