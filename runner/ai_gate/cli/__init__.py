"""The `ai-gate` command: a thin layer over the library modules.

Exit codes (errors.EXIT_CODE_MEANINGS; each subcommand's --help lists those it returns):
  0   pass / go
  1   runtime failure: database unreachable, dbt error or failing dbt test, aborted run,
      interrupted or terminated
  2   a gate failed, or the canary must hold or roll back
  3   input rejected; nothing was written
  4   inconclusive: not enough evidence (the decision is stored)
  64  usage error
"""

from __future__ import annotations

import signal
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

import psycopg

from ai_gate.cli.common import command_scope
from ai_gate.cli.parser import build_parser
from ai_gate.database import first_line, redact
from ai_gate.errors import (
    EXIT_INPUT_REJECTED,
    EXIT_RUNTIME_FAILURE,
    AiGateError,
    InputRejected,
    Terminated,
    UsageError,
)

__all__ = ["build_parser", "entrypoint", "main"]


# The signals a scheduler or a closing terminal stops a job with: each handled exactly
# like Ctrl-C (the open transaction rolls back, a run being judged ends `aborted`).
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def _terminate(signum: int, frame: object) -> None:
    raise Terminated(signal.Signals(signum).name)


def _say(text: str) -> None:
    """Every error line goes out through here: no connection password, ever."""
    sys.stderr.write(redact(text) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    previous = {signum: signal.signal(signum, _terminate) for signum in STOP_SIGNALS}
    try:
        args = build_parser().parse_args(argv)
        with command_scope():
            return int(args.handler(args))
    except InputRejected as exc:
        _say(f"ai-gate: {exc}")
        for problem in exc.problems:
            _say(f"  {problem}")
        return EXIT_INPUT_REJECTED
    except UsageError as exc:
        _say(str(exc))
        return exc.exit_code
    except AiGateError as exc:
        _say(f"ai-gate: {exc}")
        return exc.exit_code
    except Terminated as exc:
        _say(f"ai-gate: terminated ({exc.signal_name}); nothing more was written")
        return EXIT_RUNTIME_FAILURE
    except KeyboardInterrupt:
        _say("ai-gate: interrupted; nothing more was written")
        return EXIT_RUNTIME_FAILURE
    except BrokenPipeError:
        return EXIT_RUNTIME_FAILURE
    except psycopg.OperationalError as exc:
        _say(f"ai-gate: lost the database connection: {first_line(str(exc))}")
        return EXIT_RUNTIME_FAILURE
    except psycopg.Error as exc:
        _say(f"ai-gate: database error: {first_line(str(exc))}")
        return EXIT_RUNTIME_FAILURE
    except Exception:  # an unexpected bug is a runtime failure, never a pass or a gate verdict
        _say(traceback.format_exc().rstrip())
        return EXIT_RUNTIME_FAILURE
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def entrypoint() -> NoReturn:
    sys.exit(main())
