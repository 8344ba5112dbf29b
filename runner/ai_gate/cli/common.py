"""What every command shares: the database it connects to (announced once, one server
session for the whole command) and what an exit code of 0 means for it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar

from ai_gate.database import Database, resolve_database

# What 0 means for a command that judges nothing (0 is "pass / go" only for the commands
# that gate: run, check, canary evaluate, daily).
DONE = "done"


# What a command holds until it ends (its database session); set by `command_scope`.
_COMMAND_RESOURCES: ContextVar[ExitStack | None] = ContextVar("ai_gate_command", default=None)


@contextmanager
def command_scope() -> Iterator[None]:
    """Around one command: its database session is closed when it ends."""
    with ExitStack() as stack:
        token = _COMMAND_RESOURCES.set(stack)
        try:
            yield
        finally:
            _COMMAND_RESOURCES.reset(token)


def connect_announced() -> Database:
    """The command's database, announced; within `command_scope`, one server session
    serves the whole command (Database.session)."""
    database = resolve_database()
    sys.stderr.write(f"ai-gate: database {database.describe()}\n")
    stack = _COMMAND_RESOURCES.get()
    if stack is not None:
        stack.enter_context(database.session())
    return database
