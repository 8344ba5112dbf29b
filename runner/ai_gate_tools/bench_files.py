"""`ai-gate bench --files`: another tool's results file of real size, and the HTML
report over a busy window, each timed as a user runs it (`ai-gate run`, `ai-gate
report` in a process of their own: wall time from start to exit, the process's own
peak RSS), in a schema of their own (`ai_gate_bench_files`, the project built there,
dropped first), so that the user's own runs are never touched.

1. a promptfoo results file of `import_mb` MB (cases x 3 repeats x 2 providers, each
   output 32 KB: a site generator's whole pages);
2. promptfoo's small results (no output) as many as `import_attempts`, beside the same
   attempts written as ai-gate records: the importer's cost per attempt against the
   JSONL reader's, both ending in the same ingest and judging;
3. `report_runs` judged runs over the last 30 days (their verdicts copied from one run
   ingested for the purpose, a fifth of them failed), then `ai-gate report --html`:
   its time, peak RSS and page size.

A benchmark: it prints numbers and asserts nothing about them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import TextIO

from psycopg import sql

from ai_gate import build
from ai_gate.database import Database
from ai_gate_tools.bench_process import ProcessRun, timed

SCHEMA = "ai_gate_bench_files"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "promptfoo" / "results.json"
OUTPUT_KB = 32


def promptfoo_results(
    path: Path, cases: int, output_kb: int, *, repeats: int = 3, truncate_at: int | None = None
) -> Path:
    """A promptfoo results file of the committed example's shape, written a result at a
    time: `cases` cases x `repeats` repeats x 2 providers, each output `output_kb` KB,
    with the per-prompt named scores promptfoo writes before its results."""
    example = json.loads(EXAMPLE.read_text())
    template = example["results"]["results"][0]
    providers = ("custom", "openai")
    head = {key: value for key, value in example.items() if key != "results"}
    body = {key: value for key, value in example["results"].items() if key != "results"}
    output = "<main>" + "x" * (output_kb * 1024) + "</main>"
    with path.open("w", encoding="utf-8") as handle:
        handle.write('{"evalId": ' + json.dumps(example["evalId"]) + ', "results": ')
        handle.write(json.dumps(body)[:-1] + ', "results": [')
        first = True
        for case in range(cases):
            for repeat in range(repeats):
                for prompt_index, provider in enumerate(providers):
                    result = json.loads(json.dumps(template))
                    result.update(testIdx=case * repeats + repeat, promptIdx=prompt_index)
                    result["provider"] = {"id": provider, "label": provider}
                    result["testCase"]["metadata"]["case_id"] = f"case-{case}"
                    result["testCase"]["description"] = f"case {case}"
                    result["response"] = {"output": output}
                    handle.write(("" if first else ", ") + json.dumps(result))
                    first = False
        handle.write("]}")
        for key, value in head.items():
            if key != "evalId":
                handle.write(f", {json.dumps(key)}: {json.dumps(value)}")
        handle.write("}")
    if truncate_at is not None:
        with path.open("r+b") as handle:
            handle.truncate(truncate_at)
    return path


def records_of(promptfoo: Path, target: Path) -> Path:
    """The attempts of a promptfoo file as ai-gate records (what its import derives)."""
    from ai_gate.evals.sources import ImportedFile, open_source

    source = open_source(promptfoo, "promptfoo", None, "fail")
    assert isinstance(source, ImportedFile)
    with target.open("w", encoding="utf-8") as handle:
        for _, record in source.conversion.records():
            if record is not None:
                handle.write(json.dumps(record) + "\n")
    return target


def _environment(database: Database) -> dict[str, str]:
    env = {**os.environ, **database.dbt_environment()}
    env["DATABASE_URL"] = database.conninfo()
    env["AI_GATE_SCHEMA"] = SCHEMA
    return env


def _prepare(database: Database, log: TextIO) -> Database:
    """The project built into SCHEMA (its own product table there too)."""
    with database.connect() as conn:
        conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(SCHEMA)))
        conn.execute(sql.SQL("create schema {}").format(sql.Identifier(SCHEMA)))
    bench_db = Database(database.params, database.source, database.embedded_dir, SCHEMA)
    build.create_phase1_table(bench_db, SCHEMA)
    log.write(f"bench: building the project into {SCHEMA}\n")
    build.build(bench_db, log, dbt_vars={"product_schema": SCHEMA})
    return bench_db


def _run(path: Path) -> list[str]:
    return [sys.executable, "-m", "ai_gate", "run", str(path), "--env", "staging",
            "--run-id", f"bench-{uuid.uuid4().hex[:20]}"]  # fmt: skip


def run_file_bench(
    database: Database,
    import_mb: int,
    import_attempts: int,
    report_runs: int,
    log: TextIO,
    replay_runs: int = 0,
    replay_samples: int = 2000,
) -> list[ProcessRun]:
    bench_db = _prepare(database, log)
    env = _environment(bench_db)
    results = []
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        # about 34 KB a result with a 32 KB output: 6 results a case
        cases = max(1, import_mb * 1024 // (OUTPUT_KB + 2) // 6)
        big = promptfoo_results(folder / "big.json", cases, OUTPUT_KB)
        size = big.stat().st_size / 1e6
        log.write(f"bench: importing a {size:,.0f} MB promptfoo file\n")
        results.append(
            timed(
                _run(big),
                env,
                f"`ai-gate run` of a promptfoo file of {size:,.0f} MB",
                f"{cases * 6:,} results, {OUTPUT_KB} KB outputs",
            )
        )
        big.unlink()
        small = promptfoo_results(folder / "small.json", max(1, import_attempts // 6), 0)
        records = records_of(small, folder / "small.jsonl")
        attempts = max(1, import_attempts // 6) * 6
        for path, what in (
            (small, f"`ai-gate run` of {attempts:,} promptfoo results"),
            (records, f"`ai-gate run` of the same {attempts:,} attempts as ai-gate records"),
        ):
            log.write(f"bench: {what}\n")
            megabytes = path.stat().st_size / 1e6
            run = timed(_run(path), env, what, f"{megabytes:,.0f} MB")
            results.append(run)
    if report_runs:
        results.append(_report(bench_db, env, report_runs, log))
    if replay_runs:
        from ai_gate_tools.bench_replay import replay_bench

        results += replay_bench(bench_db, SCHEMA, env, replay_runs, replay_samples, log)
    return results


def _report(bench_db: Database, env: dict[str, str], runs: int, log: TextIO) -> ProcessRun:
    """`runs` judged runs over 30 days, copied from one real run, then the report."""
    passing = Path(__file__).resolve().parents[2] / "examples" / "evals" / "passing.jsonl"
    seed = subprocess.run(
        [sys.executable, "-m", "ai_gate", "run", str(passing), "--env", "prod", "--run-id",
         "bench-seed"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if seed.returncode != 0:
        raise RuntimeError(f"seeding the report bench failed: {seed.stderr[-2000:]}")
    runs_table = sql.SQL("{}.ai_eval_runs").format(sql.Identifier(SCHEMA))
    with bench_db.connect() as conn:
        conn.execute(
            sql.SQL(
                "insert into {runs} (run_id, run_type, environment, triggered_by, thresholds,"
                " strict, is_synthetic, status, started_at, finished_at, source_file,"
                " source_sha256, metadata, verdict, gate_policy)"
                " select 'bench-ci-' || i, 'offline', 'prod', 'ci', thresholds, false, false,"
                " case when i %% 5 = 0 then 'failed' else 'passed' end,"
                " now() - i * (interval '30 days' / %(runs)s),"
                " now() - i * (interval '30 days' / %(runs)s), 'ci.jsonl', repeat('c', 64),"
                " '{{}}', verdict, gate_policy"
                " from {runs}, generate_series(1, %(runs)s - 1) as i where run_id = 'bench-seed'"
            ).format(runs=runs_table),
            {"runs": runs},
        )
    with tempfile.TemporaryDirectory() as directory:
        page = Path(directory) / "report.html"
        log.write(f"bench: the HTML report of {runs:,} runs\n")
        run = timed(
            [sys.executable, "-m", "ai_gate", "report", "--html", str(page), "--env", "prod"],
            env,
            f"`ai-gate report --html` over {runs:,} runs in 30 days",
            "",
        )
        size = page.stat().st_size / 1e6
    return ProcessRun(run.what, run.seconds, run.peak_rss_mb, f"page {size:.2f} MB")


def render_markdown(info: dict[str, str], results: list[ProcessRun]) -> str:
    lines = [
        f"Measured {info['date']} on {info['cpu']} ({info['cores']} cores, {info['memory']}),"
        f" Python {info['python']}, PostgreSQL {info['server']}: each command in a process "
        "of its own (wall time from start to exit; the process's peak RSS).",
        "",
        "| what | | time | peak RSS |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {run.what} | {run.detail} | {run.seconds:.2f} s | {run.peak_rss_mb:.0f} MB |"
        for run in results
    ]
    imported = [run for run in results if run.what.endswith("promptfoo results")]
    as_records = [run for run in results if "as ai-gate records" in run.what]
    if imported and as_records:
        ratio = imported[0].seconds / as_records[0].seconds
        lines += ["", f"The importer per attempt: {ratio:.2f} times the records reader's."]
    return "\n".join(lines) + "\n"
