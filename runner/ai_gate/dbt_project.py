"""Running dbt on ai-gate's project against the resolved database.

dbt runs in a child process: one invocation at a time, isolated from our process
state, and its own exit code never leaks into ours (a failing test and a model
error both exit 1 there; run_results.json tells them apart).
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from ai_gate.database import Database
from ai_gate.errors import DbtFailed, RuntimeFailure

PROFILES_DIR = Path(__file__).parent / "dbt_profile"
DBT_MAIN = "import sys; from dbt.cli.main import cli; sys.exit(cli())"
PROBLEM_STATUSES = {"error", "fail", "runtime error", "skipped"}


def project_dir() -> Path:
    """The dbt project: AI_GATE_PROJECT_DIR, else the checkout this package lives in."""
    configured = os.environ.get("AI_GATE_PROJECT_DIR")
    candidates = [Path(configured)] if configured else list(Path(__file__).resolve().parents)
    for candidate in candidates:
        if (candidate / "dbt_project.yml").is_file():
            return candidate
    raise RuntimeFailure(
        "cannot find ai-gate's dbt project (dbt_project.yml): install ai-gate from its "
        "checkout (pip install -e .) or set AI_GATE_PROJECT_DIR"
    )


def dbt_environment(database: Database) -> dict[str, str]:
    env = dict(os.environ)
    env.update(database.dbt_environment())
    env["DBT_PROFILES_DIR"] = str(PROFILES_DIR)
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    env.setdefault("DBT_USE_COLORS", "false")
    return env


@dataclass(frozen=True)
class NodeProblem:
    unique_id: str
    status: str
    message: str

    def render(self) -> str:
        return f"{self.status.upper():<8} {self.unique_id}: {self.message}"


@dataclass(frozen=True)
class DbtResult:
    returncode: int
    problems: list[NodeProblem]
    counts: dict[str, int]
    output_tail: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.problems


def target_dir(directory: Path) -> Path:
    """Where dbt writes its artifacts: DBT_TARGET_PATH (dbt's own variable, which the
    test suite sets so that it never shares the checkout's target/), else target/."""
    configured = os.environ.get("DBT_TARGET_PATH")
    return (directory / configured) if configured else directory / "target"


@contextmanager
def project_lock(directory: Path) -> Iterator[None]:
    """One dbt invocation at a time per target directory: two would overwrite each
    other's manifest and run_results.json. Released when the process dies."""
    target = target_dir(directory)
    target.mkdir(parents=True, exist_ok=True)
    with (target / ".ai-gate-dbt.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_dbt(
    database: Database,
    args: Sequence[str],
    *,
    stream: TextIO | None = None,
    capture: bool = False,
    profile_target: str | None = None,
) -> DbtResult | str:
    """Run `dbt ARGS` on the project. With capture, return stdout; else a DbtResult.

    dbt's own log lines go to `stream` (stderr by default) so stdout stays ours. With
    `profile_target` (an output of the profile other than the default), dbt keeps its
    artifacts in a folder of that name inside the target folder: its parse of the
    project is tied to the profile's target, and sharing one folder would make every
    build parse the whole project again.
    """
    directory = project_dir()
    with project_lock(directory):
        return _run_dbt_locked(
            directory, database, args, stream=stream, capture=capture, profile_target=profile_target
        )


def _run_dbt_locked(
    directory: Path,
    database: Database,
    args: Sequence[str],
    *,
    stream: TextIO | None,
    capture: bool,
    profile_target: str | None,
) -> DbtResult | str:
    artifacts = target_dir(directory)
    if profile_target is not None:
        artifacts = artifacts / profile_target
        args = [*args, "--target", profile_target, "--target-path", str(artifacts)]
    run_results = artifacts / "run_results.json"
    if run_results.exists():
        # A stale file would blame the previous invocation's nodes.
        run_results.unlink()
    command = [sys.executable, "-c", DBT_MAIN, *args, "--project-dir", str(directory)]
    env = dbt_environment(database)
    if capture:
        completed = subprocess.run(
            command, env=env, cwd=directory, capture_output=True, text=True, check=False
        )
        if completed.returncode != 0:
            raise DbtFailed(
                f"dbt {' '.join(args)} failed:\n{_tail(completed.stdout + completed.stderr)}"
            )
        return completed.stdout
    out = stream if stream is not None else sys.stderr
    process = subprocess.Popen(
        command, env=env, cwd=directory, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        out.write(line)
        lines.append(line)
        del lines[:-40]
    returncode = process.wait()
    problems, counts = read_run_results(run_results)
    return DbtResult(returncode, problems, counts, "".join(lines))


def read_run_results(path: Path) -> tuple[list[NodeProblem], dict[str, int]]:
    if not path.exists():
        return [], {}
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise RuntimeFailure(f"cannot read dbt's {path}: {exc}") from exc
    problems: list[NodeProblem] = []
    counts: dict[str, int] = {}
    for result in payload.get("results", []):
        status = str(result.get("status"))
        counts[status] = counts.get(status, 0) + 1
        if status in PROBLEM_STATUSES:
            # dbt's message says what failed on its first line and why on the next
            # (a contract's mismatch, a database error): all of it, on one line
            lines = [line.strip() for line in (result.get("message") or "").splitlines()]
            message = " ".join(line for line in lines if line)
            problems.append(NodeProblem(result.get("unique_id", "?"), status, _shortened(message)))
    return problems, counts


# How much of one node's message a failure shows (a compiled query can be long).
MESSAGE_CHARACTERS = 600


def _shortened(message: str) -> str:
    if len(message) <= MESSAGE_CHARACTERS:
        return message
    return message[: MESSAGE_CHARACTERS - 1] + "…"


def require_success(result: DbtResult, what: str) -> DbtResult:
    """The result, when dbt succeeded; else DbtFailed, whose first line names what
    failed (a scheduler's outcome file keeps that line), then each failing node with
    dbt's whole message, then how many nodes were skipped because of them."""
    if result.ok:
        return result
    failed = [problem for problem in result.problems if problem.status != "skipped"]
    skipped = [problem for problem in result.problems if problem.status == "skipped"]
    if failed:
        named = ", ".join(f"{p.status} {p.unique_id}" for p in failed[:3])
        more = f" and {len(failed) - 3} more" if len(failed) > 3 else ""
        headline = f"{what} failed: {named}{more}"
        details = [f"  {problem.render()}" for problem in failed]
        if skipped:
            details.append(
                f"  {len(skipped)} skipped because of them: "
                + ", ".join(problem.unique_id for problem in skipped[:10])
                + (f" and {len(skipped) - 10} more" if len(skipped) > 10 else "")
            )
        raise DbtFailed(f"{headline} (dbt exit code {result.returncode})\n" + "\n".join(details))
    details = _tail(result.output_tail)
    raise DbtFailed(f"{what} failed (dbt exit code {result.returncode}):\n{details}")


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join("  " + line for line in text.strip().splitlines()[-lines:])
