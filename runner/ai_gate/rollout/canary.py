"""Canary analysis: compare the canary arm with the baseline arm and decide.

Telemetry (ai_routing_telemetry: the product's generations plus synthetic ones) gives
each arm's latency distribution (rows it served, by selected_provider) and its
fallback rate (rows routed to it, by requested_provider). Eval samples, split by
selected_provider, give quality. Rules come from the seeds ai_canary_guardrails and
ai_canary_rollback_triggers; every decision is stored with its inputs.

Synthetic rows (`ai-gate simulate`) are left out unless asked for
(`include_synthetic`, for dry runs); a decision that used any is marked synthetic, and
neither `step` nor a rollback acts on it. Quality comes only from canary evidence:
eval runs of the environment decided for, of run type `canary` (production samples
scored); offline and scheduled suites are not samples of the traffic the canary serves,
so they are left out and listed with the decision. The product's telemetry table has
no environment column: a product database serves one environment, so its rows count
for the one evaluated.

The rules (rollout/rules.py, ADR 0004) are one-sided tests that hold over every look of a
rollout: `rollback` when a trigger is shown, `hold` when a guardrail breach or a
sample-ratio mismatch is shown, `go` only when every rule is shown inside its margin,
else `inconclusive`. By default they read the rollout so far: everything since the
canary started serving (else the last ROLLOUT_HORIZON), and the sample ratio since the
last flag change of the environment; each decision is stored with its look number and
evidence, so it can be replayed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from ai_gate.actor import default_actor
from ai_gate.database import Database
from ai_gate.errors import EXIT_GATE_FAILED, EXIT_INCONCLUSIVE, EXIT_OK, InputRejected
from ai_gate.evals.metrics import rate_sample_fields
from ai_gate.jsonable import JsonFields
from ai_gate.rollout.arms import Arms
from ai_gate.rollout.rules import (
    METHOD,
    ArmCounts,
    Latency,
    Policy,
    Rate,
    Rule,
    judge,
    latency_ranks,
)
from ai_gate.routing.change_log import CHANGE_LOG
from ai_gate.routing.configuration import ProviderConfig, read_effective
from ai_gate.routing.traffic import traffic_shares

# The eval runs that are evidence about the canary: production samples, scored.
CANARY_EVIDENCE_RUN_TYPE = "canary"
DECISION_EXIT_CODES = {
    "go": EXIT_OK,
    "hold": EXIT_GATE_FAILED,
    "rollback": EXIT_GATE_FAILED,
    "inconclusive": EXIT_INCONCLUSIVE,
}
QUANTILES = (0.5, 0.9, 0.95, 0.99)
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
        )


@dataclass(frozen=True)
class Decision(JsonFields):
    JSON_PROPERTIES = ("is_synthetic",)

    decision_id: int
    decision: str
    environment: str
    canary: str
    baseline: str
    window_start: datetime | None
    window_end: datetime | None
    eval_run_id: str | None
    rules: list[Rule]
    arms: dict[str, Arm]
    synthetic_rows: int
    production_rows: int
    synthetic_eval_samples: int = 0
    include_synthetic: bool = False
    excluded_synthetic_rows: int = 0
    method: str = METHOD
    alpha: float | None = None
    look: int = 1
    step_start: datetime | None = None
    expected_canary_share: float | None = None
    # eval runs with samples of either arm in the window that are not canary evidence
    # (run type offline or scheduled): left out of the quality arms, named here
    ignored_eval_runs: list[dict[str, object]] = field(default_factory=list)

    @property
    def is_synthetic(self) -> bool:
        """Synthetic evidence went into it: it may not move real traffic."""
        return self.synthetic_rows > 0 or self.synthetic_eval_samples > 0

    @property
    def exit_code(self) -> int:
        return DECISION_EXIT_CODES[self.decision]


def _one_row(conn: psycopg.Connection, query: sql.Composable, params: object) -> dict:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, params)
        row = cur.fetchone()
    return row or {}


def _configuration(
    conn: psycopg.Connection, database: Database, environment: str
) -> tuple[dict[str, float], list[dict[str, object]]]:
    guardrails = _one_row(
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
    return {k: float(v) for k, v in guardrails.items()}, triggers


_TELEMETRY_SCOPE = (
    " and (%(synthetic)s or not is_synthetic)"
    " and (environment is null or environment = %(environment)s)"
)


def _telemetry_arm(
    conn: psycopg.Connection,
    database: Database,
    provider: str,
    start: datetime,
    end: datetime,
    scope: dict[str, object],
    policy: Policy,
) -> dict[str, object]:
    """One arm's telemetry: counts first, then, in one sort of its latencies, the
    displayed quantiles and the order statistics at the ranks the rules ask for (which
    depend on how many latencies there are)."""
    params = {"provider": provider, "start": start, "end": end, **scope}
    telemetry = sql.SQL(
        " from {} where {} = %(provider)s and created_at >= %(start)s and created_at < %(end)s"
        + _TELEMETRY_SCOPE
    )
    relation = database.relation("ai_routing_telemetry")
    served = _one_row(
        conn,
        sql.SQL(
            "select count(*) as served_rows,"
            " count(*) filter (where is_synthetic) as synthetic_rows,"
            " count(latency_ms) as latency_samples,"
            " count(*) filter (where latency_ms > %(ceiling)s) as latency_above_p95_ceiling"
        )
        + telemetry.format(relation, sql.Identifier("selected_provider")),
        {**params, "ceiling": policy.max_p95_latency_ms},
    )
    ranks = latency_ranks(policy, int(served["latency_samples"])).all()
    samples = int(served["latency_samples"])
    # percentile_disc at (r - 0.5) / t is the r-th smallest value exactly: the first
    # whose position r / t reaches the fraction
    quantiles = (
        _one_row(
            conn,
            sql.SQL(
                "select percentile_cont(%(quantiles)s::float8[]) within group (order by latency_ms)"
                " as quantiles,"
                " percentile_disc(%(fractions)s::float8[]) within group (order by latency_ms)"
                " as order_statistics"
            )
            + telemetry.format(relation, sql.Identifier("selected_provider")),
            {
                **params,
                "quantiles": list(QUANTILES),
                "fractions": [(rank - 0.5) / samples for rank in ranks],
            },
        )
        if samples
        else {}
    )
    routed = _routed(conn, database, provider, start, end, scope)
    order_statistics = dict(zip(ranks, quantiles.get("order_statistics") or [], strict=False))
    return {**served, **quantiles, **routed, "order_statistics": order_statistics}


def _routed(
    conn: psycopg.Connection,
    database: Database,
    provider: str,
    start: datetime,
    end: datetime,
    scope: dict[str, object],
) -> dict[str, object]:
    """Rows routed to a provider (it was asked) and how many of them fell back."""
    return _one_row(
        conn,
        sql.SQL(
            "select count(*) as routed_rows, count(fallback_used) as fallback_known,"
            " count(*) filter (where fallback_used) as fallbacks"
            " from {} where requested_provider = %(provider)s"
            " and created_at >= %(start)s and created_at < %(end)s" + _TELEMETRY_SCOPE
        ).format(database.relation("ai_routing_telemetry")),
        {"provider": provider, "start": start, "end": end, **scope},
    )


def _eval_arm(
    conn: psycopg.Connection,
    database: Database,
    provider: str,
    start: datetime | None,
    end: datetime | None,
    run_id: str | None,
    scope: dict[str, object],
) -> dict[str, object]:
    """Quality of one arm: samples it served, from the canary evidence of the
    environment only (and not synthetic unless asked for)."""
    where = _quality_window(run_id)
    # per rate metric of the registry: how many samples carry its field, and how
    # many of those are true
    rates = sql.SQL("").join(
        sql.SQL(
            " count(samples.{field}) as {trials}, count(*) filter (where samples.{field})"
        ).format(field=sql.Identifier(field), trials=sql.Identifier(f"{metric}:trials"))
        + sql.SQL(" as {},").format(sql.Identifier(metric))
        for metric, field in rate_sample_fields().items()
    )
    return _one_row(
        conn,
        sql.SQL(
            "select count(*) as eval_samples,{}"
            " count(*) filter (where runs.is_synthetic) as synthetic_samples"
            " from {} as samples inner join {} as runs on samples.run_id = runs.run_id"
            " where samples.selected_provider = %(provider)s"
            " and runs.environment = %(environment)s and runs.run_type = %(evidence)s"
            " and (%(synthetic)s or not runs.is_synthetic) and {}"
        ).format(
            rates,
            database.relation("ai_eval_samples"),
            database.relation("ai_eval_runs"),
            where,
        ),
        {
            "provider": provider,
            "start": start,
            "end": end,
            "run_id": run_id,
            "evidence": CANARY_EVIDENCE_RUN_TYPE,
            **scope,
        },
    )


def _quality_window(run_id: str | None) -> sql.Composable:
    """Which samples are the quality arms': one run's, or those of the window."""
    if run_id is not None:
        return sql.SQL("samples.run_id = %(run_id)s")
    # created_at is optional in a record: a sample without one ran when its run did
    return sql.SQL(
        "coalesce(samples.created_at, runs.started_at) >= %(start)s"
        " and coalesce(samples.created_at, runs.started_at) < %(end)s"
    )


def _ignored_eval_runs(
    conn: psycopg.Connection,
    database: Database,
    arms: Arms,
    start: datetime,
    end: datetime,
    scope: dict[str, object],
) -> list[dict[str, object]]:
    """The environment's eval runs with samples of either arm in the window that are
    not canary evidence, each with its run type and those samples' count."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            sql.SQL(
                "select runs.run_id, runs.run_type, count(*) as samples"
                " from {} as samples inner join {} as runs on samples.run_id = runs.run_id"
                " where samples.selected_provider = any(%(providers)s)"
                " and runs.environment = %(environment)s and runs.run_type <> %(evidence)s"
                " and (%(synthetic)s or not runs.is_synthetic) and {}"
                " group by runs.run_id, runs.run_type order by runs.run_id"
            ).format(
                database.relation("ai_eval_samples"),
                database.relation("ai_eval_runs"),
                _quality_window(None),
            ),
            {
                "providers": [arms.canary, arms.baseline],
                "start": start,
                "end": end,
                "evidence": CANARY_EVIDENCE_RUN_TYPE,
                **scope,
            },
        )
        return cur.fetchall()


def _arm(provider: str, telemetry: dict[str, object], quality: dict[str, object]) -> Arm:
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

    guardrails: dict[str, float]
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


def gather(
    conn: psycopg.Connection,
    database: Database,
    arms: Arms,
    since: timedelta | None,
    run_id: str | None,
    include_synthetic: bool,
) -> Evidence:
    """Read a decision's evidence on `conn` (in one snapshot: an arm's counts and its
    order statistics are read by two statements, whose ranks depend on the count)."""
    environment, canary, baseline = arms.environment, arms.canary, arms.baseline
    guardrails, triggers = _configuration(conn, database, environment)
    policy = Policy.from_seeds(guardrails, triggers)
    configs = read_effective(conn, database, environment)
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
        raise _not_serving(configs, canary, environment)
    if run_id is not None:
        _check_quality_run(conn, database, run_id, environment, include_synthetic)
    scope = {"environment": environment, "synthetic": include_synthetic}
    qualities = {
        provider: _eval_arm(conn, database, provider, start, end, run_id, scope)
        for provider in (canary, baseline)
    }
    arm_evidence = {
        provider: _arm(
            provider,
            _telemetry_arm(conn, database, provider, start, end, scope, policy),
            qualities[provider],
        )
        for provider in (canary, baseline)
    }
    totals = _one_row(
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
            int(_routed(conn, database, p, step_start, end, scope)["routed_rows"])
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
        ignored_eval_runs=(
            []
            if run_id is not None
            else _ignored_eval_runs(conn, database, arms, start, end, scope)
        ),
    )


def _not_serving(configs: list[ProviderConfig], canary: str, environment: str) -> InputRejected:
    """A canary that gets no traffic has no rollout to decide on: said as such, never
    as "keep collecting" (which would wait for evidence that cannot come)."""
    config = next(c for c in configs if c.provider == canary)
    why = "is disabled" if not config.enabled else "has weight 0"
    since = (
        f" since change #{config.last_change_id} ({config.last_change_reason})"
        if (config.last_change_id)
        else ""
    )
    return InputRejected(
        f"{canary} {why} in {environment}{since}: it gets no traffic, so there is no "
        "rollout to evaluate; nothing was stored. To restart the rollout at the plan's "
        f"first share: ai-gate flags set {canary} --env {environment} --enable --weight N "
        "--reason TEXT --confirm-traffic"
    )


def decision_on(
    arms: Arms, evidence: Evidence, run_id: str | None, include_synthetic: bool
) -> Decision:
    """The decision on the evidence (rules.judge), not yet stored (decision_id 0)."""
    verdict, rules = judge(
        evidence.arms[arms.canary].counts(),
        evidence.arms[arms.baseline].counts(),
        evidence.policy,
        evidence.expected_share,
        evidence.step_rows,
    )
    # Synthetic rows are left out unless asked for; counted either way, so the output
    # can say so.
    return Decision(
        decision_id=0,
        decision=verdict,
        environment=arms.environment,
        canary=arms.canary,
        baseline=arms.baseline,
        window_start=evidence.start,
        window_end=evidence.end,
        eval_run_id=run_id,
        rules=rules,
        arms=evidence.arms,
        synthetic_rows=evidence.synthetic_rows if include_synthetic else 0,
        production_rows=evidence.production_rows,
        synthetic_eval_samples=evidence.synthetic_eval_samples if include_synthetic else 0,
        include_synthetic=include_synthetic,
        excluded_synthetic_rows=0 if include_synthetic else evidence.synthetic_rows,
        alpha=evidence.policy.alpha,
        look=evidence.look,
        step_start=evidence.step_start,
        expected_canary_share=evidence.expected_share,
        ignored_eval_runs=evidence.ignored_eval_runs,
    )


def _stored_columns(decision: Decision, evidence: Evidence, actor: str) -> dict[str, object]:
    """ai_canary_decisions' columns for a decision: the one mapping the INSERT uses."""
    return {
        "decided_by": actor,
        "environment": decision.environment,
        "canary": decision.canary,
        "baseline": decision.baseline,
        "window_start": decision.window_start,
        "window_end": decision.window_end,
        "eval_run_id": decision.eval_run_id,
        "decision": decision.decision,
        "rules": json.dumps([asdict(rule) for rule in decision.rules]),
        "arms": json.dumps({name: arm.as_json() for name, arm in decision.arms.items()}),
        "guardrails": json.dumps(evidence.guardrails),
        "rollback_triggers": json.dumps(evidence.triggers, default=float),
        "synthetic_rows": decision.synthetic_rows,
        "production_rows": decision.production_rows,
        "synthetic_eval_samples": decision.synthetic_eval_samples,
        "is_synthetic": decision.is_synthetic,
        "method": decision.method,
        "alpha": decision.alpha,
        "look": decision.look,
        "step_start": decision.step_start,
        "ignored_eval_runs": json.dumps(decision.ignored_eval_runs),
    }


def store(
    conn: psycopg.Connection, database: Database, decision: Decision, evidence: Evidence, actor: str
) -> Decision:
    """Insert the decision with its inputs; the stored decision, with its id."""
    columns = _stored_columns(decision, evidence, actor)
    with conn.transaction():
        row = conn.execute(
            sql.SQL("insert into {} ({}) values ({}) returning decision_id").format(
                database.relation("ai_canary_decisions"),
                sql.SQL(", ").join(map(sql.Identifier, columns)),
                sql.SQL(", ").join(map(sql.Placeholder, columns)),
            ),
            columns,
        ).fetchone()
    assert row is not None
    return replace(decision, decision_id=int(row[0]))


def evaluate(
    database: Database,
    arms: Arms,
    since: timedelta | None = None,
    run_id: str | None = None,
    actor: str | None = None,
    include_synthetic: bool = False,
) -> Decision:
    """Gather the evidence, judge it, store the decision with its inputs; return it."""
    actor = actor or default_actor()
    with database.connect() as conn:
        # one snapshot for all the evidence (the first statement of the transaction)
        conn.execute("set transaction isolation level repeatable read")
        evidence = gather(conn, database, arms, since, run_id, include_synthetic)
        decision = decision_on(arms, evidence, run_id, include_synthetic)
        return store(conn, database, decision, evidence, actor)


def _check_quality_run(
    conn: psycopg.Connection,
    database: Database,
    run_id: str,
    environment: str,
    include_synthetic: bool,
) -> None:
    row = conn.execute(
        sql.SQL("select environment, is_synthetic, run_type from {} where run_id = %s").format(
            database.relation("ai_eval_runs")
        ),
        (run_id,),
    ).fetchone()
    if row is None:
        raise InputRejected(f"no evaluation run {run_id!r}")
    if row[2] != CANARY_EVIDENCE_RUN_TYPE:
        raise InputRejected(
            f"evaluation run {run_id!r} is of run type {row[2]!r}, not canary evidence: the "
            "canary decides on production samples scored and ingested with "
            f"`ai-gate run FILE --run-type {CANARY_EVIDENCE_RUN_TYPE}` (an offline suite is "
            "not a sample of the traffic the canary serves)"
        )
    if row[0] != environment:
        raise InputRejected(
            f"evaluation run {run_id!r} is of environment {row[0]!r}, not {environment!r}: "
            "a canary decision takes quality only from its own environment's runs"
        )
    if row[1] and not include_synthetic:
        raise InputRejected(
            f"evaluation run {run_id!r} is synthetic (ai-gate simulate): it decides nothing "
            "unless --include-synthetic is given (for dry runs)"
        )


def latest_decision(database: Database, environment: str, canary: str) -> dict | None:
    with database.connect() as conn:
        return (
            _one_row(
                conn,
                sql.SQL(
                    "select decision_id, decision, decided_at, is_synthetic from {}"
                    " where environment = %s and canary = %s order by decision_id desc limit 1"
                ).format(database.relation("ai_canary_decisions")),
                (environment, canary),
            )
            or None
        )


def rollout_plan(database: Database, arms: Arms) -> list[int]:
    """The canary's plan in its environment: its share of traffic (percent) per step."""
    with database.connect() as conn:
        rows = conn.execute(
            sql.SQL(
                "select canary_percent from {} where environment = %s and canary = %s order by step"
            ).format(database.relation("ai_canary_rollout_plan")),
            (arms.environment, arms.canary),
        ).fetchall()
    return [int(row[0]) for row in rows]
