"""A metric added to the registry alone (vars eval_metrics in dbt_project.yml) plus its
gate and thresholds is ingested, summarised, gated and reported, end to end: on a copy
of the project, with the recipe of docs/development.md and nothing else edited."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ClonedDatabase, run_cli_process

from ai_gate.dbt_project import project_dir

pytestmark = pytest.mark.xdist_group("metric_registry")

NEW_METRIC = {
    "name": "accessibility_rate",
    "field": "accessibility_compliant",
    "kind": "rate",
    "description": "The page passed the accessibility checks; null when not checked.",
}
PROJECT_PARTS = ("dbt_project.yml", "models", "macros", "seeds", "tests", "analyses", "docs")


def copy_project_with_new_metric(destination: Path) -> None:
    """The recipe: a registry entry, a gate, thresholds, then the generator."""
    source = project_dir()
    for part in PROJECT_PARTS:
        if (source / part).is_dir():
            shutil.copytree(source / part, destination / part)
        else:
            shutil.copy(source / part, destination / part)
    config_path = destination / "dbt_project.yml"
    text = config_path.read_text()
    entry = "".join(
        f"    - {k}: {v}\n" if k == "name" else f"      {k}: {json.dumps(v)}\n"
        for k, v in NEW_METRIC.items()
    )
    # appended to the list: after p95_latency_ms, the registry's last entry
    anchor = '      description: "Routing: generation latency in milliseconds; finite."\n'
    assert text.count(anchor) == 1
    config_path.write_text(text.replace(anchor, anchor + entry))
    with (destination / "seeds" / "ai_eval_gate_definitions.csv").open("a") as handle:
        handle.write("accessibility_rate_min,accessibility_rate,>=,2.0,Share of checked pages\n")
    with (destination / "seeds" / "ai_eval_thresholds.csv").open("a") as handle:
        handle.write("prod,accessibility_rate_min,0.9,100,\n")
        handle.write("staging,accessibility_rate_min,0.8,5,\n")
    generated = subprocess.run(
        [sys.executable, "-m", "ai_gate_tools.record_schema", "--write"],
        env={"PATH": "/usr/bin:/bin", "AI_GATE_PROJECT_DIR": str(destination)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert generated.returncode == 0, generated.stderr


def records(path: Path) -> list[dict[str, object]]:
    """40 samples: 30 checked for accessibility (21 pass: 0.7 < 0.8), 10 not checked."""
    rows = []
    for index in range(40):
        rows.append(
            {
                "sample_id": f"a{index}",
                "schema_valid": True,
                "safety_html_tailwind_compliant": True,
                "accessibility_compliant": None if index >= 30 else index % 10 < 7,
                "latency_ms": 1000 + index,
                "selected_provider": "openai",
            }
        )
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return rows


def test_a_metric_added_to_the_registry_alone_is_gated_end_to_end(
    empty_db: ClonedDatabase, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    copy_project_with_new_metric(project)
    env = {
        **empty_db.env,
        "AI_GATE_PROJECT_DIR": str(project),
        # dbt's own artifacts for this copy: the suite's partial parse stays the suite's
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
    }
    assert run_cli_process(["init-dev"], env).returncode == 0
    built = run_cli_process(["build"], env)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr

    rows = records(tmp_path / "records.jsonl")
    checked = [
        row["accessibility_compliant"] for row in rows if row["accessibility_compliant"] is not None
    ]
    expected_rate = sum(checked) / len(checked)  # 21 / 30
    report_path = tmp_path / "report.json"
    ran = run_cli_process(
        [
            "run",
            str(tmp_path / "records.jsonl"),
            "--env",
            "staging",
            "--report-json",
            str(report_path),
        ],
        env,
    )
    # ingested and gated: the new gate fails (0.7 < 0.8), so the run fails
    assert ran.returncode == 2, ran.stdout + ran.stderr
    report = json.loads(report_path.read_text())
    gate = next(g for g in report["gates"] if g["gate"] == "accessibility_rate_min")
    assert gate["status"] == "failed"
    assert gate["observed"] == pytest.approx(expected_rate, abs=1e-9)
    assert report["metrics"]["accessibility_rate"] == pytest.approx(expected_rate)
    assert report["metric_counts"]["accessibility_rate"] == len(checked)
    # every other gate passed: the new metric alone failed the run
    assert {g["status"] for g in report["gates"] if g["gate"] != "accessibility_rate_min"} <= {
        "passed",
        "skipped",
    }

    # stored: the sample column, v2's row, v1's published columns unchanged
    run_id = report["run_id"]
    stored = empty_db.execute(
        "select count(*) filter (where accessibility_compliant), count(accessibility_compliant)"
        " from ai_eval_samples where run_id = %s",
        (run_id,),
    )
    assert stored == [(21, 30)]
    v2 = empty_db.execute(
        "select value, n from ai_eval_run_summary_v2 where run_id = %s and metric = %s",
        (run_id, "accessibility_rate"),
    )
    assert v2 == [(pytest.approx(expected_rate), 30)]
    v1_columns = {
        row[0]
        for row in empty_db.execute(
            "select column_name from information_schema.columns"
            " where table_name = 'ai_eval_run_summary_v1'"
        )
    }
    assert not any(column.startswith("accessibility") for column in v1_columns)
    assert ("accessibility_rate",) in empty_db.execute("select metric from ai_eval_metrics")

    # reported: the text report (a person reads it) shows the gate and the value
    checked_run = run_cli_process(["check", "--run-id", run_id], env)
    assert checked_run.returncode == 2, checked_run.stderr
    line = next(
        line
        for line in checked_run.stdout.splitlines()
        if line.startswith("accessibility_rate_min")
    )
    assert "0.7000" in line and "FAILED" in line, line

    # the published record schema of the copy carries the field
    schema = json.loads((project / "docs" / "eval-record.schema.json").read_text())
    assert schema["properties"]["accessibility_compliant"]["type"] == ["boolean", "null"]
    models = yaml.safe_load((project / "models" / "evals" / "_evals__models.yml").read_text())
    samples = next(m for m in models["models"] if m["name"] == "ai_eval_samples")
    assert "accessibility_compliant" in [c["name"] for c in samples["columns"]]
