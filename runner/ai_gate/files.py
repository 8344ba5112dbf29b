"""Files ai-gate writes for people and CI (reports): written whole or not at all, where
the user said, as what is there expects."""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from pathlib import Path

import yaml

from ai_gate.errors import InputRejected

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


def write_output(path: Path, content: str) -> None:
    """A report (a verdict report, the HTML report) at the path the user gave:

    - `-`: standard output;
    - GitHub's step summary ($GITHUB_STEP_SUMMARY): appended, as GitHub expects;
    - a device, FIFO or /dev/stdout-like path: written straight through (appended, so
      a shell's `>` file behind /dev/stdout keeps what was written before);
    - a regular file, or a new one: replaced atomically, keeping an existing file's mode;
      a symbolic link keeps pointing where it did, at the file written.
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
    if path.is_symlink() and not str(path.absolute()).startswith(STREAM_PREFIXES):
        path = path.resolve()  # the file the link names is written; the link stays
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


def is_standard_output(path: Path | str) -> bool:
    """`-`, or a path that is this process's standard output (`/dev/stdout`, or the file
    a shell redirected it to): a report written there shares it with the text report."""
    if str(path) == "-":
        return True
    try:
        out = os.fstat(sys.stdout.fileno())
        target = os.stat(path)
    except (OSError, ValueError, AttributeError):  # no such file; stdout not a real file
        return False
    return (out.st_dev, out.st_ino) == (target.st_dev, target.st_ino)


def _same_file(one: Path, other: Path) -> bool:
    try:
        return one.samefile(other)
    except OSError:
        return one.absolute() == other.absolute()


def _new_file_mode() -> int:
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def read_yaml_mapping(
    path: Path, expected: str, what: str = "file", *, nested: bool = False
) -> list[tuple[str, object, int]]:
    """A YAML file a user wrote as a mapping (thresholds, a map): each entry as (key,
    value, line), in file order; refused (InputRejected, naming the file and line) when
    it cannot be read, is not YAML, is empty or not a mapping, or gives a key twice
    (YAML's loaders keep the last silently). A value that is not a scalar is given as
    _NOT_SCALAR with its line, for the caller to refuse; with `nested`, a mapping value
    (one level) is given as a NestedMapping of its own entries."""
    label = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputRejected(
            f"{label}: cannot read: {getattr(exc, 'strerror', None) or exc}"
        ) from exc
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{label}:{mark.line + 1}" if mark else label
        raise InputRejected(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    if root is None:
        raise InputRejected(f"{label}: empty; expected a mapping of {expected}")
    if not isinstance(root, yaml.MappingNode):
        raise InputRejected(f"{label}:{root.start_mark.line + 1}: expected a mapping of {expected}")
    problems: list[str] = []
    entries = _mapping_entries(root, label, problems, nested)
    if problems:
        raise InputRejected(f"{label}: {what} rejected", problems)
    return entries


def _mapping_entries(
    node: yaml.MappingNode, label: str, problems: list[str], nested: bool
) -> list[tuple[str, object, int]]:
    """A mapping node's entries as (key, value, line); with `nested`, a mapping value
    is given as its own entries (a list of them), else as _NOT_SCALAR."""
    entries: list[tuple[str, object, int]] = []
    seen: dict[str, int] = {}
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if not isinstance(key, str):
            problems.append(f"{label}:{line}: a key must be text")
            continue
        if key in seen:
            problems.append(f"{label}:{line}: {key}: given twice (first on line {seen[key]})")
            continue
        seen[key] = line
        if isinstance(value_node, yaml.ScalarNode):
            value = yaml.safe_load(yaml.serialize(value_node))
        elif nested and isinstance(value_node, yaml.MappingNode):
            value = NestedMapping(_mapping_entries(value_node, label, problems, nested=False))
        else:
            value = _NOT_SCALAR
        entries.append((key, value, line))
    return entries


class NestedMapping(list):  # type: ignore[type-arg]
    """A mapping's entries, (key, value, line), as read_yaml_mapping(nested=True) gives
    a section of a file."""


class _NotScalar:
    """A YAML value that is a list or a mapping where a scalar was expected."""

    def __repr__(self) -> str:
        return "a list or mapping"


_NOT_SCALAR = _NotScalar()


def is_scalar(value: object) -> bool:
    return value is not _NOT_SCALAR
