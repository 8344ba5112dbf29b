"""`python -m ai_gate` is the `ai-gate` command."""

from ai_gate.cli import entrypoint

entrypoint()
