"""`ai-gate bench`'s eval part: `ai-gate run` of a generated JSONL file in a process of
its own (samples/s end to end, its peak RSS), for each way of spelling sample ids, and
`ai-gate check --latest` end to end. Prints numbers, asserts nothing about them."""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

from ai_gate.database import Database
from ai_gate.evals.metrics import eval_metrics


@dataclass
class IngestRun:
    label: str  # how the file's sample ids are ordered
    samples: int
    per_second: float  # end to end: process start, read + validate + hash, COPY, judge
    rss_mb: float


def ingest_environment(database: Database) -> dict[str, str]:
    env = {
        **os.environ,
        **database.dbt_environment(),
        "PGPASSWORD": database.params.get("password") or "",
    }
    env["DATABASE_URL"] = database.conninfo()
    return env


# How sample ids are spelled decides what sorting them costs when a run's primary key
# (run_id, sample_id) is built (and, before samples were partitioned by run, where each
# insertion landed in the index shared by all runs).
SAMPLE_ID_PATTERNS = {
    "sorted": "sample ids in key order (`s0000000`, `s0000001`, ...)",
    "sequential": "sample ids numbered without padding (`b0`, `b1`, ...; `b10` sorts before `b2`)",
    "random": "random sample ids (UUIDs)",
}


def _sample_id(pattern: str, index: int, id_rng: random.Random) -> str:
    if pattern == "sorted":
        return f"s{index:07d}"
    if pattern == "sequential":
        return f"b{index}"
    return str(uuid.UUID(int=id_rng.getrandbits(128), version=4))


def bench_ingest(database: Database, samples: int, id_pattern: str, log: TextIO) -> IngestRun:
    """Eval ingest in a child process (its peak RSS is the child's own), for one
    SAMPLE_ID_PATTERNS spelling of the ids. Each record has its own created_at (one a
    second), as an evaluation's records do. Needs the project built in the main schema."""
    rng = random.Random(3)
    id_rng = random.Random(4)
    rate_metrics = [metric for metric in eval_metrics() if metric.kind == "rate"]
    # one a second, ending now: ai-gate refuses records from the future
    started = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=samples)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "bench.jsonl"
        with path.open("w") as handle:
            for index in range(samples):
                handle.write(
                    json.dumps(
                        {
                            "sample_id": _sample_id(id_pattern, index, id_rng),
                            "case_id": f"c{index % 500}",
                            # every rate field of the registry: a required one true
                            # at its typical rate, an optional one sometimes absent
                            **{
                                metric.field: rng.random() < metric.typical_rate
                                if metric.required
                                else rng.choice((True, True, False, None))
                                for metric in rate_metrics
                            },
                            "latency_ms": round(rng.lognormvariate(8.4, 0.5), 1),
                            "requested_provider": "openai",
                            "selected_provider": "openai",
                            "route_strategy": "weighted",
                            "prompt_template_version": "sitegen-v3",
                            "created_at": (started + timedelta(seconds=index)).isoformat(),
                        },
                        separators=(",", ":"),
                    )
                    + "\n"
                )
        env = ingest_environment(database)
        # `ai-gate run` as a user runs it, in a process of its own: its wall time from
        # start to exit (interpreter start included) and its own peak RSS (wait4 gives
        # that child's resource usage alone).
        command = [sys.executable, "-m", "ai_gate", "run", str(path), "--env", "staging"]
        command += ["--run-id", f"bench-{uuid.uuid4().hex[:24]}"]  # random, as a hash is
        with tempfile.TemporaryFile() as errors:
            started = time.perf_counter()
            process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=errors)
            _, status, usage = os.wait4(process.pid, 0)
            seconds = time.perf_counter() - started
            process.returncode = os.waitstatus_to_exitcode(status)
            if process.returncode not in (0, 2):  # a verdict either way
                errors.seek(0)
                tail = errors.read().decode(errors="replace")[-2000:]
                raise RuntimeError(f"ai-gate run exited {process.returncode}: {tail}")
    label = SAMPLE_ID_PATTERNS[id_pattern]
    rate = samples / seconds
    log.write(f"bench: ingested {samples:,} samples ({label}) at {rate:,.0f}/s\n")
    # ru_maxrss is in kilobytes on Linux
    return IngestRun(label, samples, rate, usage.ru_maxrss / 1024)


def bench_check_latest(database: Database, runs: int) -> float:
    """`ai-gate check --latest` as a new process, end to end; median of `runs`."""
    env = ingest_environment(database)
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "ai_gate",
                "check",
                "--latest",
            ],
            env=env,
            capture_output=True,
            check=False,
        )
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)
