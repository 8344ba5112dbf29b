"""The documents stay true: generated tables, the ADR's rollback SQL, the runbook."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import ClonedDatabase

from ai_gate_tools import seed_docs

REPO = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^( *)```(\w+)\n(.*?)^\1```", re.DOTALL | re.MULTILINE)


def blocks(path: Path) -> list[tuple[str, str]]:
    """(language, body) of every fenced block, with the list indentation removed."""
    found = []
    for match in FENCE.finditer(path.read_text()):
        indent = len(match.group(1))
        body = "\n".join(line[indent:] for line in match.group(3).splitlines())
        found.append((match.group(2), body))
    return found


def test_generated_tables_match_the_seeds() -> None:
    assert seed_docs.stale_documents() == []


def test_a_stale_generated_table_is_detected() -> None:
    text = (REPO / "docs" / "adr" / "0001-provider-routing-rollout.md").read_text()
    stale = text.replace("| prod | 0.05 | 20000 |", "| prod | 0.07 | 20000 |")
    assert stale != text
    assert seed_docs.render(stale) == text


def test_the_adr_rollback_sql_runs_as_written(built_db: ClonedDatabase) -> None:
    adr = REPO / "docs" / "adr" / "0001-provider-routing-rollout.md"
    section = adr.read_text().split("### Rollback SQL", 1)[1]
    sql = FENCE.search(section)
    assert sql is not None and sql.group(2) == "sql"
    with built_db.database.connect(autocommit=True) as conn:
        for statement in filter(str.strip, sql.group(3).split(";")):
            conn.execute(statement)
    configs = dict(
        built_db.execute(
            "select provider, enabled from ai_provider_configs where environment = 'prod'"
        )
    )
    assert configs == {"custom": False, "openai": True}
    assert built_db.execute(
        "select changed_via, db_user = current_user from ai_provider_config_changes"
    ) == [("sql", True)]


def test_every_runbook_step_works_as_written(built_db: ClonedDatabase) -> None:
    # An incident to work on: a failed eval run and a canary that regressed on safety.
    assert built_db.cli("run", str(REPO / "examples" / "evals" / "failing.jsonl")).returncode == 2
    assert (
        built_db.cli("simulate", "--scenario", "safety-regression", "--rows", "3000").returncode
        == 0
    )
    ran = 0
    for language, body in blocks(REPO / "docs" / "runbook" / "on-call.md"):
        if language == "sh":
            for line in filter(str.strip, body.splitlines()):
                words = shlex.split(line)
                assert words[0] == "ai-gate", line
                result = built_db.cli(*words[1:])
                # 0, 2 and 3 are verdicts; 1 (runtime) or 64 (usage) mean the step is broken.
                assert result.returncode not in (1, 64), (line, result.stdout, result.stderr)
                ran += 1
        elif language == "sql":
            with built_db.database.connect(autocommit=True) as conn:
                for statement in filter(str.strip, body.split(";")):
                    conn.execute(statement)
                    ran += 1
    assert ran >= 15
    # The runbook's rollback took effect.
    assert (
        dict(
            built_db.execute(
                "select provider, enabled from ai_provider_configs where environment = 'prod'"
            )
        )["custom"]
        is True
    )  # re-enabled by the last step, after the fix
    assert (
        built_db.execute(
            "select count(*) from ai_provider_config_changes where reason like '%rollback%'"
        )[0][0]
        >= 1
    )


def test_the_dry_run_document_is_up_to_date(server, template: str) -> None:
    """Regenerates docs/rollout/canary-dry-run.md from real command output."""
    import uuid

    from conftest import clean_environ, run_cli

    from ai_gate_tools.dry_run import ACTOR, render

    databases: dict[str, str] = {}

    def run(scenario: str, words: list[str]) -> tuple[int, str]:
        if scenario not in databases:
            name = f"ai_gate_dry_{uuid.uuid4().hex[:8]}"
            server.create_database(name, template=template)
            databases[scenario] = name
        env = {
            **clean_environ(),
            "DATABASE_URL": server.url(databases[scenario]),
            "AI_GATE_ACTOR": ACTOR,
        }
        result = run_cli(words, env)
        output = result.stdout + (result.stderr if result.returncode in (1, 64) else "")
        return result.returncode, output

    try:
        document = render(run)
    finally:
        for name in databases.values():
            server.drop_database(name)
    committed = (REPO / "docs" / "rollout" / "canary-dry-run.md").read_text()
    assert document == committed, "run: .venv/bin/python scripts/canary_dry_run.py"


def exit_code_handling(tmp_path: Path, script: str, command: str, code: int) -> tuple[int, str]:
    """Run a scheduler example's shell with `command` standing for an ai-gate that exits
    `code` and a pager that records its message; its exit status and what it paged."""
    stub = tmp_path / "ai-gate"
    stub.write_text(f"#!/bin/sh\nexit {code}\n")
    stub.chmod(0o755)
    pager = tmp_path / "page-oncall"
    paged = tmp_path / "paged"
    pager.write_text(f'#!/bin/sh\necho "$1" >> {shlex.quote(str(paged))}\n')
    pager.chmod(0o755)
    env_file = tmp_path / "env"
    env_file.write_text("")
    shell = (
        script.replace(command, str(stub))
        .replace("/usr/local/bin/page-oncall", str(pager))
        .replace("/etc/ai-gate/env", str(env_file))
        .replace("/var/log/ai-gate/daily.log", str(tmp_path / "daily.log"))
    )
    completed = subprocess.run(
        ["bash", "-c", shell],
        env={"PATH": "/usr/bin:/bin", "GITHUB_OUTPUT": str(tmp_path / "output")},
        capture_output=True,
        text=True,
        check=False,
    )
    return completed.returncode, (paged.read_text() if paged.exists() else "") + completed.stdout


@pytest.mark.parametrize("code", [0, 1, 2, 3, 4])
def test_the_scheduler_examples_page_on_failures_and_not_on_inconclusive(
    tmp_path: Path, code: int
) -> None:
    # cron: the crontab line's command (after the five time fields and the user)
    cron = next(
        body for language, body in blocks(REPO / "docs/scheduling/cron.md") if language == "cron"
    )
    line = next(line for line in cron.splitlines() if not line.startswith("#"))
    command = line.split(None, 6)[6]
    assert command.count("/opt/ai-gate/.venv/bin/ai-gate daily") == 1
    (tmp_path / "cron").mkdir()
    (tmp_path / "actions").mkdir()
    status, said = exit_code_handling(
        tmp_path / "cron", command, "/opt/ai-gate/.venv/bin/ai-gate", code
    )
    assert status == 0
    if code in (0, 4):
        assert said == ""
    else:
        assert said == f"ai-gate daily exited {code}\n"
    if code == 4:
        assert "inconclusive" in (tmp_path / "cron" / "daily.log").read_text()

    # GitHub Actions: the job fails (notifies) on 1, 2, 3; 4 is a warning annotation
    workflow = yaml.safe_load((REPO / "docs/scheduling/ai-gate-daily.yml").read_text())
    steps = workflow["jobs"]["daily"]["steps"]
    daily_steps = [step for step in steps if "ai-gate daily" in step.get("run", "")]
    assert len(daily_steps) == 1 and daily_steps[0].get("shell") == "bash"
    assert "continue-on-error" not in daily_steps[0]
    status, said = exit_code_handling(
        tmp_path / "actions", daily_steps[0]["run"], "ai-gate/.venv/bin/ai-gate", code
    )
    assert (tmp_path / "actions" / "output").read_text().endswith(f"exit_code={code}\n")
    if code == 0:
        assert (status, said) == (0, "")
    elif code == 4:
        assert status == 0 and said.startswith("::warning ")
    else:
        assert status == code and said.startswith("::error ")
    # the reports are kept and summarised whatever the exit code
    for name in ("Step summary", "Keep the reports"):
        step = next(step for step in steps if step.get("name") == name)
        assert step["if"] == "always()"
