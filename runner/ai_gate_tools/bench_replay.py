"""`ai-gate bench --files`, its last part: `ai-gate replay` over a window of `runs`
stored runs of `samples` samples each, timed as a user runs it (a process of its own)
under the stored policies and under a proposal. One real run is ingested; its samples,
thresholds, policy and verdict are copied to the others, spread over 89 days, in the
`staging` environment of the bench schema (the report bench's runs, in prod, have no
samples). The replay under the stored policies must change nothing: a discrepancy
fails the bench (exit 1), so the figure is of a replay that reproduced every run.

A benchmark: it prints numbers and asserts nothing about them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TextIO

from psycopg import sql

from ai_gate.database import Database
from ai_gate_tools.bench_process import ProcessRun, timed

SEED_RUN = "bench-replay-0"


def _records(path: Path, samples: int) -> Path:
    """A run's records: one schema-invalid sample in a hundred, everything else passing."""
    with path.open("w", encoding="utf-8") as handle:
        for index in range(samples):
            record = {
                "sample_id": f"s{index:07d}",
                "case_id": f"case-{index}",
                "schema_valid": index % 100 != 0,
                "safety_html_tailwind_compliant": True,
                "fallback_used": False,
                "latency_ms": 1000 + index % 700,
            }
            handle.write(json.dumps(record) + "\n")
    return path


def _copy_runs(bench_db: Database, schema: str, runs: int) -> None:
    """The seed run's row and samples under `runs - 1` new run ids (open while their
    samples go in, as ingest leaves a run), then its verdict."""
    table = {name: sql.Identifier(schema, name) for name in ("ai_eval_runs", "ai_eval_samples")}
    with bench_db.connect() as conn:
        columns = [
            row[0]
            for row in conn.execute(
                "select column_name from information_schema.columns where table_schema = %s"
                " and table_name = 'ai_eval_samples' and column_name <> 'run_id'"
                " and is_generated = 'NEVER' order by ordinal_position",
                (schema,),
            ).fetchall()
        ]
        sample_columns = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
        conn.execute(
            sql.SQL(
                "insert into {runs} (run_id, run_type, environment, triggered_by, thresholds,"
                " strict, is_synthetic, status, started_at, source_file, source_sha256,"
                " metadata, gate_policy)"
                " select 'bench-replay-' || i, run_type, environment, triggered_by, thresholds,"
                " strict, false, 'running', now() - i * (interval '89 days' / %(runs)s),"
                " source_file, source_sha256, metadata, gate_policy"
                " from {runs}, generate_series(1, %(runs)s - 1) as i where run_id = %(seed)s"
            ).format(runs=table["ai_eval_runs"]),
            {"runs": runs, "seed": SEED_RUN},
        )
        conn.execute(
            sql.SQL(
                "insert into {samples} (run_id, {columns})"
                " select 'bench-replay-' || i, {columns}"
                " from {samples}, generate_series(1, %(runs)s - 1) as i where run_id = %(seed)s"
            ).format(samples=table["ai_eval_samples"], columns=sample_columns),
            {"runs": runs, "seed": SEED_RUN},
        )
        conn.execute(
            sql.SQL(
                "update {runs} as copies set status = seed.status, finished_at = now(),"
                " verdict = seed.verdict from {runs} as seed"
                " where seed.run_id = %(seed)s and copies.run_id like 'bench-replay-%%'"
                " and copies.run_id <> %(seed)s"
            ).format(runs=table["ai_eval_runs"]),
            {"seed": SEED_RUN},
        )


def replay_bench(
    bench_db: Database, schema: str, env: dict[str, str], runs: int, samples: int, log: TextIO
) -> list[ProcessRun]:
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        seeded = subprocess.run(
            [sys.executable, "-m", "ai_gate", "run", str(_records(folder / "seed.jsonl", samples)),
             "--env", "staging", "--run-id", SEED_RUN],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if seeded.returncode not in (0, 2):
            raise RuntimeError(f"seeding the replay bench failed: {seeded.stderr[-2000:]}")
        log.write(f"bench: copying the run to {runs:,} runs of {samples:,} samples\n")
        _copy_runs(bench_db, schema, runs)
        proposal = folder / "proposal.yml"
        proposal.write_text("schema_valid_rate_min: 0.995\n")  # the runs are at 0.99
        what = f"`ai-gate replay` of {runs:,} runs of {samples:,} samples (89 days)"
        results = []
        for detail, extra in (
            ("under the stored policies (nothing changes)", []),
            (
                "under schema_valid_rate_min 0.995 (the runs are at 0.99)",
                ["--thresholds", str(proposal)],
            ),
        ):
            log.write(f"bench: {what}, {detail}\n")
            command = [sys.executable, "-m", "ai_gate", "replay", "--env", "staging", "--since",
                       "90d", "--json", *extra]  # fmt: skip
            results.append(timed(command, env, what, detail))
    return results
