"""A command timed as a user runs it: a process of its own, its wall time from start to
exit and its own peak RSS (the file and replay benchmarks)."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class ProcessRun:
    what: str
    seconds: float
    peak_rss_mb: float
    detail: str


def timed(command: list[str], env: dict[str, str], what: str, detail: str) -> ProcessRun:
    """`command` in a process of its own: its wall time and its own peak RSS."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        code = os.waitstatus_to_exitcode(status)
        if code not in (0, 2):
            errors.seek(0)
            tail = errors.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"{' '.join(command[2:])} exited {code}: {tail}")
    return ProcessRun(what, seconds, usage.ru_maxrss / 1024, detail)
