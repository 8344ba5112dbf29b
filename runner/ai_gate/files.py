"""Files ai-gate writes for people and CI (reports): written whole or not at all, where
the user said, as what is there expects."""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from pathlib import Path

# Paths that name a stream rather than a file, whatever they resolve to.
STREAM_PREFIXES = ("/dev/", "/proc/")


def write_atomically(path: Path, content: str, mode: int | None = None) -> None:
    """Write to a temporary file beside `path`, then rename: never a half-written report.
    The file gets `mode`, else what a new file gets (0666 less the umask), not the
    temporary file's 0600."""
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(descriptor, _new_file_mode() if mode is None else mode)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_report(path: Path, content: str) -> None:
    """A report at the path the user gave:

    - `-`: standard output;
    - GitHub's step summary ($GITHUB_STEP_SUMMARY): appended, as GitHub expects;
    - a device, FIFO or /dev/stdout-like path: written straight through (appended, so
      a shell's `>` file behind /dev/stdout keeps what was written before);
    - a regular file, or a new one: replaced atomically, keeping an existing file's mode.
    """
    if str(path) == "-":
        sys.stdout.write(content)
        sys.stdout.flush()
        return
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary and _same_file(path, Path(summary)):
        with path.open("a", encoding="utf-8") as handle:
            handle.write(content)
        return
    try:
        status = path.stat()
    except FileNotFoundError:
        status = None
    if str(path.absolute()).startswith(STREAM_PREFIXES) or (
        status is not None and not stat.S_ISREG(status.st_mode)
    ):
        with path.open("a", encoding="utf-8") as handle:
            handle.write(content)
        return
    write_atomically(path, content, None if status is None else stat.S_IMODE(status.st_mode))


def _same_file(one: Path, other: Path) -> bool:
    try:
        return one.samefile(other)
    except OSError:
        return one.absolute() == other.absolute()


def _new_file_mode() -> int:
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask
