"""Domain exceptions and the one place that maps them to exit codes.

Exit codes are a contract with schedulers and CI: 0 means a real pass and 2 a real
gate failure, so nothing else may produce either.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_RUNTIME_FAILURE = 1
EXIT_GATE_FAILED = 2
EXIT_INPUT_REJECTED = 3
EXIT_INCONCLUSIVE = 4
EXIT_USAGE = 64

# What each code means, once, for the README, --help and the docs.
EXIT_CODE_MEANINGS = {
    EXIT_OK: "pass / go",
    EXIT_RUNTIME_FAILURE: "runtime failure (database, dbt or a failing dbt test, aborted "
    "run, interrupted or terminated)",
    EXIT_GATE_FAILED: "a gate failed, or the canary must hold or roll back",
    EXIT_INPUT_REJECTED: "input rejected; nothing was written",
    EXIT_INCONCLUSIVE: "inconclusive: not enough evidence (the decision is stored)",
    EXIT_USAGE: "usage error",
}


class AiGateError(Exception):
    """Base class; `exit_code` says how the process ends."""

    exit_code = EXIT_RUNTIME_FAILURE


class RuntimeFailure(AiGateError):
    """The database, dbt or the environment failed; nothing was judged."""

    exit_code = EXIT_RUNTIME_FAILURE


class DatabaseUnavailable(RuntimeFailure):
    """The database could not be reached or started."""


class NotBuilt(RuntimeFailure):
    """A relation ai-gate needs does not exist yet: `ai-gate build` has not run."""


class DbtFailed(RuntimeFailure):
    """A dbt invocation ended with errors or failing tests."""


class InputRejected(AiGateError):
    """The user's input was invalid; nothing was written."""

    exit_code = EXIT_INPUT_REJECTED

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP (a scheduler stopping the job, a terminal closing): handled
    exactly like Ctrl-C, so a transaction rolls back and a run being judged ends
    `aborted`."""

    def __init__(self, signal_name: str = "SIGTERM") -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name


class UsageError(AiGateError):
    """The command line itself was wrong."""

    exit_code = EXIT_USAGE
