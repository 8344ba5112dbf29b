"""Everything one canary decision reads, in one snapshot of the database: the
environment's policy (ai_canary_guardrails, ai_canary_rollback_triggers), its routing
configuration (the expected traffic split, the rollout's start and its current step),
and both arms' telemetry and quality. Synthetic rows (`ai-gate simulate`) are left out
unless asked for (dry runs). By default a decision reads the rollout so far: since the
canary started serving (else the last ROLLOUT_HORIZON), the sample ratio since the last
flag change of the environment."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from ai_gate.database import Database, fetch_one
from ai_gate.errors import InputRejected
from ai_gate.evals.metrics import rate_sample_fields
from ai_gate.evals.stored_runs import require_run
from ai_gate.jsonable import JsonFields
from ai_gate.rollout.arms import ArmNames, Arms
from ai_gate.rollout.quality_arms import CANARY_EVIDENCE_RUN_TYPE, quality_arm, window_eval_runs
from ai_gate.rollout.rule_types import Amounts, ArmCounts, Latency, Policy, Rate
from ai_gate.rollout.telemetry_arms import QUANTILES, routed, telemetry_arm
from ai_gate.routing.change_log import CHANGE_LOG
from ai_gate.routing.configuration import ProviderConfig, read_effective
from ai_gate.routing.traffic import traffic_shares

# With no recorded start of the rollout, the decision reads this far back.
ROLLOUT_HORIZON = timedelta(days=14)


@dataclass(frozen=True)
class Arm(JsonFields):
    provider: str
    served_rows: int
    routed_rows: int
    synthetic_rows: int
    fallback: Rate  # successes = fallbacks among the rows routed to it
    latency_samples: int
    latency_quantiles: dict[str, float | None]
    latency_above_p95_ceiling: int
    # rank -> value: the order statistics the latency rules' bounds are
    latency_order_statistics: dict[int, float]
    eval_samples: int
    quality: dict[str, Rate]  # eval rate metric -> its rate among the eval samples
    # its rows' costs per generation (recorded, or priced from their tokens): how many
    # are known, of them how many priced, the median and mean, and rank -> value for
    # the cost rule's bounds
    cost_samples: int = 0
    priced_costs: int = 0
    cost_p50: float | None = None
    cost_mean: float | None = None
    cost_order_statistics: dict[int, float] = field(default_factory=dict)

    def counts(self) -> ArmCounts:
        return ArmCounts(
            provider=self.provider,
            served_rows=self.served_rows,
            routed_rows=self.routed_rows,
            fallback=self.fallback,
            latency=Latency(
                samples=self.latency_samples,
                above_p95_ceiling=self.latency_above_p95_ceiling,
                order_statistics=self.latency_order_statistics,
                p50=self.latency_quantiles.get("p50"),
                p95=self.latency_quantiles.get("p95"),
            ),
            eval_samples=self.eval_samples,
            quality=self.quality,
            cost=Amounts(
                samples=self.cost_samples,
                order_statistics=self.cost_order_statistics,
                p50=self.cost_p50,
                mean=self.cost_mean,
            ),
        )


def _configuration(
    conn: psycopg.Connection, database: Database, environment: str
) -> tuple[dict[str, float], list[dict[str, object]]]:
    guardrails = fetch_one(
        conn,
        sql.SQL("select * from {} where environment = %s").format(
            database.relation("ai_canary_guardrails")
        ),
        (environment,),
    )
    if not guardrails:
        raise InputRejected(f"no canary guardrails for environment {environment!r}")
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            sql.SQL("select * from {} where environment = %s order by trigger_name").format(
                database.relation("ai_canary_rollback_triggers")
            ),
            (environment,),
        )
        triggers = cur.fetchall()
    rates = rate_sample_fields()
    for trigger in triggers:
        if trigger["metric"] not in rates:
            raise InputRejected(
                f"rollback trigger {trigger['trigger_name']!r} of environment {environment!r}:"
                f" {trigger['metric']!r} is not an eval rate metric"
                f" (vars.eval_metrics in dbt_project.yml: {', '.join(rates)})"
            )
    guardrails.pop("environment")
    # an empty ceiling (max_cost_ratio) is no guardrail: kept as None
    return {k: None if v is None else float(v) for k, v in guardrails.items()}, triggers


def arm_from(provider: str, telemetry: dict[str, object], quality: dict[str, object]) -> Arm:
    """An arm from its telemetry (telemetry_arm) and quality (quality_arm) reads."""
    quantiles = telemetry.get("quantiles") or [None] * len(QUANTILES)
    return Arm(
        provider=provider,
        served_rows=int(telemetry.get("served_rows") or 0),
        routed_rows=int(telemetry.get("routed_rows") or 0),
        synthetic_rows=int(telemetry.get("synthetic_rows") or 0),
        fallback=Rate(
            int(telemetry.get("fallbacks") or 0), int(telemetry.get("fallback_known") or 0)
        ),
        latency_samples=int(telemetry.get("latency_samples") or 0),
        latency_quantiles={
            f"p{round(q * 100)}": v for q, v in zip(QUANTILES, quantiles, strict=True)
        },
        latency_above_p95_ceiling=int(telemetry.get("latency_above_p95_ceiling") or 0),
        latency_order_statistics=telemetry.get("order_statistics") or {},  # type: ignore[arg-type]
        eval_samples=int(quality.get("eval_samples") or 0),
        quality={
            metric: Rate(int(quality.get(metric) or 0), int(quality.get(f"{metric}:trials") or 0))
            for metric in rate_sample_fields()
        },
        cost_samples=int(telemetry.get("cost_samples") or 0),
        priced_costs=int(telemetry.get("priced_costs") or 0),
        cost_p50=telemetry.get("cost_p50"),  # type: ignore[arg-type]
        cost_mean=None if telemetry.get("cost_mean") is None else float(telemetry["cost_mean"]),  # type: ignore[arg-type]
        cost_order_statistics=telemetry.get("cost_order_statistics") or {},  # type: ignore[arg-type]
    )


def _windows(
    conn: psycopg.Connection,
    database: Database,
    arms: Arms,
    configs: list[ProviderConfig],
    now: datetime,
) -> tuple[datetime, datetime]:
    """(start of the rollout, start of its current step). The rollout started at the
    latest change that made the canary serve (enabled with a weight above 0, when it
    did not before); with none recorded, ROLLOUT_HORIZON ago. The step started at the
    environment's latest flag change (weights set the expected traffic split)."""
    row = conn.execute(
        sql.SQL(
            "select max(changed_at) from {} where environment = %s and provider = %s"
            " and enabled and weight > 0 and not ("
            " coalesce((before_values ->> 'enabled')::boolean, false)"
            " and coalesce((before_values ->> 'weight')::integer, 0) > 0)"
        ).format(database.relation(CHANGE_LOG)),
        (arms.environment, arms.canary),
    ).fetchone()
    rollout_start = row[0] if row and row[0] else now - ROLLOUT_HORIZON
    changes = [config.last_changed_at for config in configs if config.last_changed_at]
    step_start = max([rollout_start, *changes])
    return rollout_start, step_start


def _look_number(conn: psycopg.Connection, database: Database, arms: Arms, start: datetime) -> int:
    """How many decisions of this rollout came before, plus one (stored, for replay)."""
    row = conn.execute(
        sql.SQL(
            "select count(*) from {} where environment = %s and canary = %s"
            " and window_start = %s and not coalesce(is_synthetic, false)"
        ).format(database.relation("ai_canary_decisions")),
        (arms.environment, arms.canary, start),
    ).fetchone()
    return int(row[0]) + 1 if row else 1


@dataclass(frozen=True)
class Evidence:
    """Everything one decision reads, from one snapshot of the database."""

    guardrails: dict[str, float | None]
    triggers: list[dict[str, object]]
    policy: Policy
    start: datetime
    end: datetime
    step_start: datetime
    look: int
    expected_share: float | None
    arms: dict[str, Arm]
    step_rows: tuple[int, int]  # (canary, baseline) rows routed since the step began
    synthetic_rows: int  # in the window, used or not
    production_rows: int
    synthetic_eval_samples: int
    ignored_eval_runs: list[dict[str, object]]
    evidence_eval_runs: list[dict[str, object]]  # the runs the quality arms read
    # the arms the decision compares, resolved from the routing configuration it read
    # (every environment's, once, in the snapshot)
    roles: Arms
    configs: list[ProviderConfig]


class CanaryNotServing(InputRejected):
    """The canary gets no traffic: no rollout to decide on. Carries what the snapshot
    read, so that `daily` reports the environment without reading it again."""

    def __init__(self, message: str, arms: Arms, configs: list[ProviderConfig]) -> None:
        super().__init__(message)
        self.arms = arms
        self.configs = configs


def gather(
    conn: psycopg.Connection,
    database: Database,
    names: ArmNames,
    since: timedelta | None,
    run_id: str | None,
    include_synthetic: bool,
) -> Evidence:
    """Read a decision's evidence on `conn` (in one snapshot: an arm's counts and its
    order statistics are read by two statements, whose ranks depend on the count). The
    routing configuration is read once, here: the arms are resolved from it, and the
    traffic split and the rollout's windows come from the same read."""
    all_configs = read_effective(conn, database)
    arms = names.resolve(all_configs)
    environment, canary, baseline = arms.environment, arms.canary, arms.baseline
    configs = [config for config in all_configs if config.environment == environment]
    guardrails, triggers = _configuration(conn, database, environment)
    policy = Policy.from_seeds(guardrails, triggers)
    end = conn.execute("select now()").fetchone()[0]  # type: ignore[index]
    if since is None:
        start, step_start = _windows(conn, database, arms, configs, end)
        look = _look_number(conn, database, arms, start)
    else:  # a fixed window: a one-off look, not part of a rollout's sequence
        start = step_start = end - since
        look = 1
    shares = traffic_shares(configs)
    canary_share, baseline_share = shares[(environment, canary)], shares[(environment, baseline)]
    if canary_share == 0:
        raise CanaryNotServing(_not_serving(configs, canary, environment), arms, all_configs)
    if run_id is not None:
        require_run(
            conn,
            database,
            run_id,
            option="--run-id",
            environment=environment,
            synthetic_allowed=include_synthetic,
            run_type=CANARY_EVIDENCE_RUN_TYPE,
            why="the canary decides on canary evidence of its own environment: production "
            f"samples, scored and ingested with `ai-gate run FILE --run-type "
            f"{CANARY_EVIDENCE_RUN_TYPE}` (a synthetic run only with --include-synthetic, "
            "for dry runs)",
        )
    scope = {"environment": environment, "synthetic": include_synthetic}
    qualities = {
        provider: quality_arm(conn, database, provider, start, end, run_id, scope)
        for provider in (canary, baseline)
    }
    arm_evidence = {
        provider: arm_from(
            provider,
            telemetry_arm(conn, database, provider, start, end, scope, policy),
            qualities[provider],
        )
        for provider in (canary, baseline)
    }
    totals = fetch_one(
        conn,
        sql.SQL(
            "select count(*) filter (where is_synthetic) as synthetic,"
            " count(*) filter (where not is_synthetic) as production from {}"
            " where created_at >= %(start)s and created_at < %(end)s"
            " and (environment is null or environment = %(environment)s)"
        ).format(database.relation("ai_routing_telemetry")),
        {"start": start, "end": end, "environment": environment},
    )
    step_rows = (
        (arm_evidence[canary].routed_rows, arm_evidence[baseline].routed_rows)
        if step_start == start
        else tuple(
            int(routed(conn, database, p, step_start, end, scope)["routed_rows"])
            for p in (canary, baseline)
        )
    )
    return Evidence(
        guardrails=guardrails,
        triggers=triggers,
        policy=policy,
        start=start,
        end=end,
        step_start=step_start,
        look=look,
        expected_share=(
            canary_share / (canary_share + baseline_share)
            if canary_share + baseline_share
            else None
        ),
        arms=arm_evidence,
        step_rows=step_rows,  # type: ignore[arg-type]
        synthetic_rows=int(totals["synthetic"]),
        production_rows=int(totals["production"]),
        synthetic_eval_samples=sum(
            int(q.get("synthetic_samples") or 0) for q in qualities.values()
        ),
        ignored_eval_runs=window_eval_runs(
            conn, database, arms, start, end, run_id, scope, evidence=False
        ),
        evidence_eval_runs=window_eval_runs(
            conn, database, arms, start, end, run_id, scope, evidence=True
        ),
        roles=arms,
        configs=all_configs,
    )


def _not_serving(configs: list[ProviderConfig], canary: str, environment: str) -> str:
    """A canary that gets no traffic has no rollout to decide on: said as such, never
    as "keep collecting" (which would wait for evidence that cannot come)."""
    config = next(c for c in configs if c.provider == canary)
    why = "is disabled" if not config.enabled else "has weight 0"
    since = (
        f" since change #{config.last_change_id} ({config.last_change_reason})"
        if (config.last_change_id)
        else ""
    )
    return (
        f"{canary} {why} in {environment}{since}: it gets no traffic, so there is no "
        "rollout to evaluate; nothing was stored. To restart the rollout at the plan's "
        f"first share: ai-gate flags set {canary} --env {environment} --enable --weight N "
        "--reason TEXT --confirm-traffic"
    )
