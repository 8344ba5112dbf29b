"""ai-gate: provider routing controls, routing telemetry tests and release gates."""

__version__ = "0.1.0"
