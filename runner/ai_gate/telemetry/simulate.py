"""`ai-gate simulate`: deterministic synthetic canary traffic for dry runs and demos.

Telemetry goes to ai_synthetic_generations (never the product's table) with COPY;
eval samples go in as one synthetic `canary` eval run. Traffic follows the flags: the
canary gets the share its weight gives it (a scenario may scale that, as a product that
does not honour the flags would). Everything lies between the environment's last flag
change (at most 55 minutes ago) and now, inside the window `ai-gate canary evaluate
--include-synthetic` reads. Same scenario, rows and seed -> the same data (relative to
now). Rates are realistic: each required eval field is true as often as its metric's
`typical_rate` says (vars.eval_metrics: schema-valid 99.5%, safety checks passed 99.9%).
"""

from __future__ import annotations

import json
import math
import random
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from psycopg import sql

from ai_gate.database import Database
from ai_gate.errors import InputRejected
from ai_gate.evals.ingest import RunOptions
from ai_gate.evals.metrics import eval_metrics
from ai_gate.evals.runs import run_evaluation
from ai_gate.rollout.arms import Arms
from ai_gate.routing.configuration import effective_configuration
from ai_gate.routing.traffic import traffic_shares


@dataclass(frozen=True)
class ArmProfile:
    latency_median_ms: float
    latency_sigma: float
    fallback_rate: float
    # percentage points less true, on the metric of the environment's rollback trigger
    # of this name (ai_canary_rollback_triggers)
    regressed_trigger: str | None = None
    regression_pp: float = 0.0
    # its cost per generation as a multiple of the baseline's tokens at gpt-4o's list
    # price (about 1.3 cents, log-normal): the custom canary exists to cost less
    cost_factor: float = 1.0


@dataclass(frozen=True)
class Scenario:
    description: str
    share_factor: float  # the canary's share of traffic, as a multiple of its weight's
    canary: ArmProfile
    baseline: ArmProfile


BASELINE = ArmProfile(5000, 0.45, 0.01)
# A healthy canary: as the baseline, at half its cost per generation.
CANARY = ArmProfile(5000, 0.45, 0.01, cost_factor=0.5)
SCENARIOS = {
    "healthy": Scenario(
        "the canary behaves like the baseline, at half its cost per generation",
        1.0,
        CANARY,
        BASELINE,
    ),
    "latency-regression": Scenario(
        "the canary's median latency is 1.8 times the baseline's",
        1.0,
        ArmProfile(9000, 0.45, 0.01, cost_factor=0.5),
        BASELINE,
    ),
    "safety-regression": Scenario(
        "3 percentage points more of the canary's pages fail the safety checks",
        1.0,
        ArmProfile(
            5000,
            0.45,
            0.01,
            regressed_trigger="safety_regression",
            regression_pp=3.0,
            cost_factor=0.5,
        ),
        BASELINE,
    ),
    "fallback-storm": Scenario(
        "a fifth of the canary's requests fall back",
        1.0,
        ArmProfile(5000, 0.45, 0.2, cost_factor=0.5),
        BASELINE,
    ),
    "low-traffic": Scenario(
        "the canary's weight is small (prod's first step, 1%): too few rows to decide",
        1.0,
        CANARY,
        BASELINE,
    ),
    "sample-ratio-mismatch": Scenario(
        "the product sends the canary half the traffic its weight asks for",
        0.5,
        CANARY,
        BASELINE,
    ),
    "cost-regression": Scenario(
        "the canary costs twice the baseline per generation",
        1.0,
        ArmProfile(5000, 0.45, 0.01, cost_factor=2.0),
        BASELINE,
    ),
}
# Tokens of a generation (log-normal: medians and spreads) and the list price they are
# costed at (gpt-4o, US dollars per million), before an arm's cost_factor.
INPUT_TOKENS = (900, 0.3)
OUTPUT_TOKENS = (1100, 0.5)
PRICE_PER_MILLION = (2.5, 10.0)


def usage(rng: random.Random, profile: ArmProfile) -> tuple[int, int, float]:
    """One generation's (input tokens, output tokens, cost in US dollars)."""
    input_tokens = int(rng.lognormvariate(0, INPUT_TOKENS[1]) * INPUT_TOKENS[0])
    output_tokens = int(rng.lognormvariate(0, OUTPUT_TOKENS[1]) * OUTPUT_TOKENS[0])
    cost = (
        (input_tokens * PRICE_PER_MILLION[0] + output_tokens * PRICE_PER_MILLION[1])
        / 1e6
        * profile.cost_factor
    )
    return input_tokens, output_tokens, round(cost, 9)


@dataclass(frozen=True)
class SimulationResult:
    scenario: str
    telemetry_rows: int
    canary_rows: int
    eval_run_id: str
    eval_samples: int


def _write_telemetry(
    database: Database,
    scenario_name: str,
    seed: int,
    rows: int,
    arms: Arms,
    rng: random.Random,
    canary_share: float,
    now: datetime,
    span: float,
    models: dict[str, str | None],
) -> int:
    """COPY `rows` synthetic generations spread over `span` seconds before `now`;
    returns how many were routed to the canary. Usage is drawn from a stream of its
    own, so the rest of a scenario's data is what it was before costs."""
    usage_rng = random.Random(f"{scenario_name}:{seed}:usage")
    environment, canary, baseline = arms.environment, arms.canary, arms.baseline
    scenario = SCENARIOS[scenario_name]
    canary_rows = 0
    columns = (
        "scenario",
        "seed",
        "created_at",
        "request_id",
        "requested_provider",
        "selected_provider",
        "route_strategy",
        "fallback_provider",
        "fallback_used",
        "latency_ms",
        "prompt_template_version",
        "environment",
        "model",
        "input_tokens",
        "output_tokens",
        "cost_usd",
    )
    copy = sql.SQL("copy {}.{} ({}) from stdin").format(
        sql.Identifier(database.schema),
        sql.Identifier("ai_synthetic_generations"),
        sql.SQL(", ").join(map(sql.Identifier, columns)),
    )
    with (
        database.connect() as conn,
        conn.transaction(),
        conn.cursor() as cur,
        cur.copy(copy) as writer,
    ):
        for index in range(rows):
            is_canary = rng.random() < canary_share
            profile = scenario.canary if is_canary else scenario.baseline
            requested, other = (canary, baseline) if is_canary else (baseline, canary)
            # a request that falls back is served by the other provider, as the
            # telemetry tests require (fallback_provider names it)
            fell_back = rng.random() < profile.fallback_rate
            selected = other if fell_back else requested
            served_by = scenario.canary if selected == canary else scenario.baseline
            canary_rows += is_canary
            created = now - timedelta(seconds=span * (1 - (index + 0.5) / rows))
            latency = int(
                rng.lognormvariate(0, served_by.latency_sigma) * served_by.latency_median_ms
            )
            input_tokens, output_tokens, cost = usage(usage_rng, served_by)
            writer.write_row(
                (
                    scenario_name,
                    seed,
                    created,
                    f"sim-{scenario_name}-{seed}-{index}",
                    requested,
                    selected,
                    "canary" if is_canary else "weighted",
                    other if fell_back else None,
                    fell_back,
                    latency,
                    "sitegen-v3",
                    environment,
                    models.get(selected),
                    input_tokens,
                    output_tokens,
                    cost,
                )
            )
    return canary_rows


def _pass_rates(database: Database, environment: str, profile: ArmProfile) -> dict[str, float]:
    """Each required eval field's chance of being true for an arm of this profile."""
    rates = {
        metric.name: metric.typical_rate
        for metric in eval_metrics()
        if metric.kind == "rate" and metric.required
    }
    if profile.regressed_trigger:
        with database.connect() as conn:
            row = conn.execute(
                sql.SQL(
                    "select metric from {} where environment = %s and trigger_name = %s"
                ).format(database.relation("ai_canary_rollback_triggers")),
                (environment, profile.regressed_trigger),
            ).fetchone()
        if row is None or row[0] not in rates:
            raise InputRejected(
                f"environment {environment!r} has no rollback trigger"
                f" {profile.regressed_trigger!r} on a required eval metric to regress"
            )
        rates[row[0]] -= profile.regression_pp / 100
    fields = {metric.name: metric.field for metric in eval_metrics()}
    return {fields[name]: rate for name, rate in rates.items()}


def _eval_sample(
    scenario_name: str,
    seed: int,
    index: int,
    arms: Arms,
    rng: random.Random,
    created: datetime,
    pass_rates: dict[bool, dict[str, float]],
    usage_rng: random.Random,
    models: dict[str, str | None],
) -> dict[str, object]:
    """One synthetic eval record; even indexes are the canary's (arms of equal size),
    with its usage (drawn from a stream of its own)."""
    is_canary = index % 2 == 0
    scenario = SCENARIOS[scenario_name]
    profile = scenario.canary if is_canary else scenario.baseline
    provider = arms.canary if is_canary else arms.baseline
    checks = {field: rng.random() < rate for field, rate in pass_rates[is_canary].items()}
    input_tokens, output_tokens, cost = usage(usage_rng, profile)
    return {
        "sample_id": f"sim-{index}",
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cost_usd": cost,
        "model": models.get(provider),
        **checks,
        "fallback_used": False,
        "latency_ms": round(
            rng.lognormvariate(0, profile.latency_sigma) * profile.latency_median_ms, 1
        ),
        "requested_provider": provider,
        "selected_provider": provider,
        "route_strategy": "canary" if is_canary else "weighted",
        "created_at": created.isoformat(),
        "metadata": {"synthetic": True, "scenario": scenario_name, "seed": seed},
    }


def simulate(
    database: Database,
    scenario_name: str,
    rows: int,
    seed: int,
    arms: Arms,
) -> SimulationResult:
    if scenario_name not in SCENARIOS:
        raise InputRejected(f"unknown scenario {scenario_name!r} (known: {', '.join(SCENARIOS)})")
    if rows < 1:
        raise InputRejected("--rows must be at least 1")
    scenario = SCENARIOS[scenario_name]
    pass_rates = {
        True: _pass_rates(database, arms.environment, scenario.canary),
        False: _pass_rates(database, arms.environment, scenario.baseline),
    }
    rng = random.Random(f"{scenario_name}:{seed}")
    environment, canary, baseline = arms.environment, arms.canary, arms.baseline
    configs = effective_configuration(database, environment)
    shares = traffic_shares(configs)
    weight_share = shares[(environment, canary)] / (
        (shares[(environment, canary)] + shares[(environment, baseline)]) or 1.0
    )
    canary_share = weight_share * scenario.share_factor
    with database.connect() as conn:
        now: datetime = conn.execute("select now()").fetchone()[0]  # type: ignore[index]
    # Within the current rollout step (since the last flag change), at most 55 minutes.
    changes = [c.last_changed_at for c in configs if c.last_changed_at]
    since_change = (now - max(changes)).total_seconds() - 0.002 if changes else math.inf
    span = min(timedelta(minutes=55).total_seconds(), since_change)
    models = {config.provider: config.model for config in configs}
    canary_rows = _write_telemetry(
        database, scenario_name, seed, rows, arms, rng, canary_share, now, span, models
    )
    samples = max(2, min(rows // 2, 5000))
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / f"synthetic-{scenario_name}-{seed}.jsonl"
        usage_rng = random.Random(f"{scenario_name}:{seed}:eval-usage")
        with path.open("w", encoding="utf-8") as handle:
            for index in range(samples):
                created = now - timedelta(seconds=span * (1 - (index + 0.5) / samples))
                record = _eval_sample(
                    scenario_name,
                    seed,
                    index,
                    arms,
                    rng,
                    created,
                    pass_rates,
                    usage_rng,
                    models,
                )
                handle.write(json.dumps(record) + "\n")
        report = run_evaluation(
            database,
            RunOptions(
                path=path,
                environment=environment,
                run_type="canary",
                # milliseconds: two simulations started in one second are two runs
                run_id=f"sim-{scenario_name}-{seed}-{int(now.timestamp() * 1000)}",
                triggered_by="ai-gate simulate",
                is_synthetic=True,
                metadata={"synthetic": True, "scenario": scenario_name, "seed": seed, "rows": rows},
            ),
        )
    return SimulationResult(scenario_name, rows, canary_rows, report.run_id, samples)
