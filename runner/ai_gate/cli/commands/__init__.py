"""The commands, by family, each declared once beside its handler (`@command`: name,
help, exit codes, options). Importing this package declares them all; the order of
the imports below is the order the top-level --help lists them in."""

# isort: off
from ai_gate.cli.commands import project, flags, evals, replay, rollout, operations, tools

# isort: on

__all__ = ["evals", "flags", "operations", "project", "replay", "rollout", "tools"]
