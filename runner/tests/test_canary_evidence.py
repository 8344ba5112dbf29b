"""The canary decides as fast as the evidence allows, through the CLI on production-
shaped data: prod's own seeded 1% share, real (not synthetic) telemetry rows in the
product's table and a canary eval run of 2,000 samples per arm (issue 21)."""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import ClonedDatabase
from test_trust import record

COLUMNS = (
    "created_at, request_id, requested_provider, selected_provider, route_strategy,"
    " fallback_provider, fallback_used, latency_ms, prompt_template_version"
)
GUARDRAIL_MS = 20_000


def telemetry(
    db: ClonedDatabase,
    canary_rows: int,
    baseline_rows: int,
    canary_latency: tuple[float, float],
    canary_fallbacks: int = 0,
    seed: int = 7,
) -> None:
    """Product telemetry over the last few hours at prod's seeded weights (custom 1,
    openai 99): latencies log-normal (mu, sigma) per arm; the canary's fallbacks are
    served by openai."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    rows = []
    for index in range(canary_rows + baseline_rows):
        canary = index < canary_rows
        fell_back = canary and index < canary_fallbacks
        mu, sigma = canary_latency if canary and not fell_back else (8.5, 0.4)
        rows.append(
            (
                now - timedelta(hours=6) + timedelta(seconds=rng.uniform(0, 5 * 3600)),
                f"req-{seed}-{index}",
                "custom" if canary else "openai",
                "openai" if fell_back or not canary else "custom",
                "canary" if canary else "weighted",
                "openai" if fell_back else None,
                fell_back,
                round(math.exp(rng.gauss(mu, sigma)), 1),
                "sitegen-v3",
            )
        )
    placeholders = ", ".join(["%s"] * 9)
    with db.database.connect() as conn, conn.cursor() as cursor:
        cursor.executemany(
            f"insert into ai_training_examples ({COLUMNS}) values ({placeholders})", rows
        )


def canary_eval_run(
    db: ClonedDatabase, path: Path, canary_unsafe: int, baseline_unsafe: int, per_arm: int = 2000
) -> None:
    """A canary eval run of `per_arm` samples per provider, with that many unsafe pages."""
    with path.open("w") as handle:
        for provider, unsafe in (("custom", canary_unsafe), ("openai", baseline_unsafe)):
            for index in range(per_arm):
                handle.write(
                    json.dumps(
                        record(
                            len(provider) * 100_000 + index,
                            sample_id=f"{provider}-{index}",
                            requested_provider=provider,
                            selected_provider=provider,
                            safety_html_tailwind_compliant=index >= unsafe,
                            schema_valid=index % 250 != 0,  # 99.6%
                        )
                    )
                    + "\n"
                )
    result = db.cli("run", str(path), "--run-type", "canary", "--env", "prod")
    assert result.returncode in (0, 2), result.stdout + result.stderr


def evaluate(db: ClonedDatabase) -> tuple[int, dict, dict[str, dict]]:
    result = db.cli("canary", "evaluate", "--env", "prod", "--json")
    assert result.returncode in (0, 2, 4), result.stdout + result.stderr
    payload = json.loads(result.stdout)
    return result.returncode, payload, {rule["name"]: rule for rule in payload["rules"]}


def test_a_healthy_canary_at_1_percent_goes_on_250_rows(
    built_db: ClonedDatabase, tmp_path: Path
) -> None:
    # 250 canary rows of 25,000 at the seeded 1%; p95 about 9,500 ms, half the guardrail;
    # 2 fallbacks (0.8%)
    telemetry(built_db, 250, 24_750, canary_latency=(8.5, 0.4), canary_fallbacks=2)
    canary_eval_run(built_db, tmp_path / "canary.jsonl", canary_unsafe=2, baseline_unsafe=2)
    code, payload, rules = evaluate(built_db)
    assert (payload["decision"], code) == ("go", 0), rules
    p95 = rules["max_p95_latency_ms"]
    assert p95["status"] == "ok"
    # the evidence is the count above the ceiling and both e-values
    evidence = p95["evidence"]
    assert evidence["trials"] == payload["arms"]["custom"]["latency_samples"] == 248
    assert (
        evidence["events"]
        == built_db.execute(
            "select count(*) from ai_training_examples"
            " where selected_provider = 'custom' and latency_ms > %s",
            (GUARDRAIL_MS,),
        )[0][0]
    )
    assert evidence["e_value_go"] >= 1 / 0.05 > evidence["e_value_breach"]
    # the go bound is an order statistic of the canary's own latencies, below the ceiling
    latencies = sorted(
        value
        for (value,) in built_db.execute(
            "select latency_ms from ai_training_examples where selected_provider = 'custom'"
        )
    )
    assert p95["go_bound"] in latencies
    assert p95["observed"] < p95["go_bound"] <= GUARDRAIL_MS
    assert p95["breach_bound"] in latencies and p95["breach_bound"] < p95["observed"]


def test_a_canary_whose_p95_is_past_the_guardrail_never_goes(
    built_db: ClonedDatabase, tmp_path: Path
) -> None:
    # p95 at 21,000 ms: exp(mu + 1.645 sigma) = 21,000 with sigma 0.4
    mu = math.log(21_000) - 1.6448536269514722 * 0.4
    canary_eval_run(built_db, tmp_path / "canary.jsonl", canary_unsafe=2, baseline_unsafe=2)
    decisions = []
    for batch in range(4):  # looks as the rollout grows: 250, 500, 750, 1,000 canary rows
        telemetry(built_db, 250, 24_750, canary_latency=(mu, 0.4), seed=100 + batch)
        _, payload, rules = evaluate(built_db)
        decisions.append((payload["decision"], rules["max_p95_latency_ms"]["status"]))
    assert all(decision != "go" for decision, _ in decisions), decisions
    assert all(status != "ok" for _, status in decisions), decisions


@pytest.mark.parametrize(
    ("canary_unsafe", "baseline_unsafe"),
    [
        (2, 100),  # 0.1% against 5% unsafe, 2,000 samples per arm
        (0, 61),
    ],
)
def test_a_canary_far_better_than_its_baseline_is_never_rolled_back(
    built_db: ClonedDatabase, tmp_path: Path, canary_unsafe: int, baseline_unsafe: int
) -> None:
    telemetry(built_db, 250, 24_750, canary_latency=(8.5, 0.4))
    canary_eval_run(
        built_db,
        tmp_path / "canary.jsonl",
        canary_unsafe=canary_unsafe,
        baseline_unsafe=baseline_unsafe,
    )
    code, payload, rules = evaluate(built_db)
    safety = rules["safety_regression"]
    assert safety["status"] != "breached"
    assert safety["evidence"]["e_value"] < 1
    assert payload["decision"] == "go" and code == 0
