{#-
    The judging rules of ai_eval_run_judgement (whose header says them), over the runs
    `runs` selects (an SQL select giving run_id, baseline_run_id, thresholds and
    gate_policy). Two callers, so the rules have one home: the view, over every stored
    run as stored; and ai_eval_replay_judgement (create_eval_replay_judgement), over one
    run under a proposed thresholds snapshot and gate policy (`ai-gate replay`).
    in_function: name the relations without the database, as function bodies do (a
    database cloned from this one by CREATE DATABASE ... TEMPLATE keeps working).
-#}
{% macro eval_run_judgement(runs, in_function=false) %}
{%- set relations = {
    'summaries': ref('ai_eval_run_summary', v=2),
    'gate_definitions': ref('ai_eval_gate_definitions'),
    'samples': ref('ai_eval_samples'),
    'metrics': ref('ai_eval_metrics'),
} -%}
{%- if in_function -%}
    {%- for name, relation in relations.items() -%}
        {%- do relations.update({name: relation.include(database=false)}) -%}
    {%- endfor -%}
{%- endif %}
with

-- not materialized: read several times; a query about one run reaches it by run_id
runs as not materialized (

    {{ runs }}

),

summaries as (

    select * from {{ relations.summaries }}

),

gate_definitions as (

    select * from {{ relations.gate_definitions }}

),

-- not materialized: read twice, and materialized it would be every run's samples
-- copied for a query about one run
samples as not materialized (

    select * from {{ relations.samples }}

),

metrics as (

    select * from {{ relations.metrics }}

),

-- not materialized: read twice, and a query about one run reaches it through run_id
run_policies as not materialized (

    select
        runs.run_id,
        coalesce(runs.gate_policy ->> 'policy', 'point') as policy,
        (runs.gate_policy ->> 'z')::double precision as z,
        (runs.gate_policy ->> 'below_minimum_z')::double precision as below_minimum_z,
        -- the z of the bounds a gate is judged on: the confidence policy's, else the
        -- one that can fail a gate below its minimum
        coalesce(
            (runs.gate_policy ->> 'z')::double precision,
            (runs.gate_policy ->> 'below_minimum_z')::double precision
        ) as bound_z,
        (
            select max(minimums.value::bigint)
            from jsonb_each_text(runs.gate_policy -> 'min_samples') as minimums
        ) as largest_minimum
    from runs

),

-- only the runs judged on bounds need their latencies ranked: those of the
-- confidence policy, and those with fewer latencies than a gate's minimum (found by
-- reading at most that many rows, once per run, so a large run is never sorted for it)
ranked_runs as (

    select
        run_policies.run_id,
        run_policies.bound_z as z
    from run_policies
    where
        run_policies.policy = 'confidence'
        or (
            run_policies.below_minimum_z is not null
            and run_policies.largest_minimum > (
                select count(*)
                from (
                    select null as latency_present
                    from samples as run_latencies
                    where
                        run_latencies.run_id = run_policies.run_id
                        and run_latencies.latency_ms is not null
                    limit run_policies.largest_minimum
                ) as first_latencies
            )
        )

),

ranked_latencies as (

    -- lateral, so each run's condition above is evaluated once, before its samples
    select
        ranked_runs.run_id,
        ranked_runs.z,
        run_ranks.latency_ms,
        run_ranks.latency_rank,
        run_ranks.latency_count
    from ranked_runs
    cross join
        lateral (
            select
                samples.latency_ms,
                row_number() over (order by samples.latency_ms) as latency_rank,
                count(*) over () as latency_count
            from samples
            where
                samples.run_id = ranked_runs.run_id
                and samples.latency_ms is not null
        ) as run_ranks

),

latency_bounds as (

    -- the ranks between which the population p95 lies (binomial ranks, normal
    -- approximation, a continuity half-step), as stats.quantile_rank_bounds
    select
        run_id,
        min(latency_ms) filter (
            where latency_rank >= floor(
                0.95 * latency_count - z * sqrt(latency_count * 0.0475) - 0.5
            )
            and floor(0.95 * latency_count - z * sqrt(latency_count * 0.0475) - 0.5) >= 1
        ) as p95_latency_ms_low,
        min(latency_ms) filter (
            where latency_rank >= ceil(
                0.95 * latency_count + z * sqrt(latency_count * 0.0475) + 0.5
            )
        ) as p95_latency_ms_high
    from ranked_latencies
    group by run_id

),

gate_inputs as (

    -- The gates are expanded lateral to the summary, so the summary (an aggregate over
    -- the run's samples) stays on the outer side of every join and is computed once
    -- per run: the planner estimates one threshold row and would otherwise recompute
    -- it once per gate. A metric no switched-on gate judges keeps its row.
    select
        summaries.run_id,
        gates.gate,
        summaries.metric,
        metrics.kind as metric_kind,
        metrics.is_fail_closed,
        gates.comparator,
        summaries.value as observed,
        summaries.n as observed_count,
        summaries.ci_low,
        summaries.ci_high,
        run_policies.policy,
        run_policies.bound_z as z,
        run_policies.below_minimum_z,
        latency_bounds.p95_latency_ms_low,
        latency_bounds.p95_latency_ms_high,
        gates.threshold,
        runs.baseline_run_id is not null as has_baseline,
        coalesce((runs.gate_policy #>> array['min_samples', gates.gate])::bigint, 0)
            as min_samples
    from summaries
    inner join runs
        on summaries.run_id = runs.run_id
    inner join run_policies
        on summaries.run_id = run_policies.run_id
    inner join metrics
        on summaries.metric = metrics.metric
    left join latency_bounds
        on summaries.run_id = latency_bounds.run_id
    left join
        lateral (
            select
                thresholds.gate,
                gate_definitions.comparator,
                (thresholds.threshold #>> '{}')::numeric as threshold
            from jsonb_each(runs.thresholds) as thresholds (gate, threshold)
            inner join gate_definitions
                on thresholds.gate = gate_definitions.gate
            where
                gate_definitions.metric = summaries.metric
                and jsonb_typeof(thresholds.threshold) = 'number'
            -- kept a subquery: flattened, its gates could be joined first and the
            -- summary recomputed once per gate (seen with 11 gate definitions)
            offset 0
        ) as gates
        on true

),

-- a rate gate's successes (null for the others, which have no Wilson bounds)
rate_inputs as (

    select
        *,
        case
            when metric_kind = 'rate' then round(observed * observed_count)
        end as rate_successes
    from gate_inputs

),

-- its one-sided Wilson bounds at the bounds' z (null for a run judged on the point
-- estimate alone)
rate_bounds as (

    select
        *,
        {{ wilson_interval_bound('rate_successes', 'observed_count', 'lower', 'z') }}
            as rate_lower_bound,
        {{ wilson_interval_bound('rate_successes', 'observed_count', 'upper', 'z') }}
            as rate_upper_bound,
        -- a mean's one-sided bounds at z: its summary interval (Johnson's, 95%) is
        -- symmetric about the skewness-corrected centre, its half-width 1.96 standard
        -- errors (macro skewed_mean_interval_bound)
        case
            when metric_kind = 'mean'
                then (ci_low + ci_high) / 2 - z * (ci_high - ci_low) / (2 * 1.959963984540054)
        end as mean_lower_bound,
        case
            when metric_kind = 'mean'
                then (ci_low + ci_high) / 2 + z * (ci_high - ci_low) / (2 * 1.959963984540054)
        end as mean_upper_bound,
        -- a ratio's at z: its summary interval is symmetric on the log scale
        case
            when metric_kind = 'baseline_ratio' and ci_low > 0
                then sqrt(ci_low * ci_high)
                    * exp(-z * ln(ci_high / ci_low) / (2 * 1.959963984540054))
        end as ratio_lower_bound,
        case
            when metric_kind = 'baseline_ratio' and ci_low > 0
                then sqrt(ci_low * ci_high)
                    * exp(z * ln(ci_high / ci_low) / (2 * 1.959963984540054))
        end as ratio_upper_bound
    from rate_inputs

),

bounded as (

    -- bounds under the confidence policy, and below a gate's minimum (where they can
    -- fail it); null where the point estimate alone judges, and for a metric no gate
    -- judges
    select
        run_id,
        gate,
        metric,
        comparator,
        threshold,
        min_samples,
        observed,
        observed_count,
        ci_low,
        ci_high,
        policy,
        below_minimum_z,
        is_fail_closed,
        has_baseline,
        metric_kind,
        case
            when gate is null then null
            when
                policy <> 'confidence'
                and (below_minimum_z is null or observed_count >= min_samples)
                then null
            when metric = 'p95_latency_ms' then p95_latency_ms_low
            -- an exact statistic of the run's cases: judged on its value
            when metric_kind in ('repeats', 'cost_per_pass') then observed
            when metric_kind = 'mean' then mean_lower_bound
            when metric_kind = 'baseline_ratio' then ratio_lower_bound
            else rate_lower_bound
        end as lower_bound,
        case
            when gate is null then null
            when
                policy <> 'confidence'
                and (below_minimum_z is null or observed_count >= min_samples)
                then null
            when metric = 'p95_latency_ms' then p95_latency_ms_high
            when metric_kind in ('repeats', 'cost_per_pass') then observed
            when metric_kind = 'mean' then mean_upper_bound
            when metric_kind = 'baseline_ratio' then ratio_upper_bound
            else rate_upper_bound
        end as upper_bound
    from rate_bounds

),

judged as (

    select
        run_id,
        gate,
        metric,
        comparator,
        threshold,
        min_samples,
        observed,
        observed_count,
        ci_low,
        ci_high,
        policy,
        lower_bound,
        upper_bound,
        case
            when gate is null then null
            -- no data: skipped, unless missing data is no evidence of passing (usage:
            -- a run that reports no cost is not free), then inconclusive
            -- (a ratio to a baseline run without one is not applicable: skipped)
            when observed is null and metric_kind = 'baseline_ratio' and not has_baseline
                then 'skipped'
            when observed is null and is_fail_closed then 'inconclusive'
            when observed is null then 'skipped'
            -- below the minimum: never passed; failed only on conclusive evidence
            when observed_count < min_samples
                then
                    case
                        when below_minimum_z is null then 'inconclusive'
                        when comparator = '>='
                            and round(upper_bound::numeric, 9) < threshold then 'failed'
                        when comparator = '<='
                            and round(lower_bound::numeric, 9) > threshold then 'failed'
                        else 'inconclusive'
                    end
            when policy = 'confidence' and comparator = '>='
                then
                    case
                        when round(lower_bound::numeric, 9) >= threshold then 'passed'
                        when round(upper_bound::numeric, 9) < threshold then 'failed'
                        else 'inconclusive'
                    end
            when policy = 'confidence' and comparator = '<='
                then
                    case
                        when round(upper_bound::numeric, 9) <= threshold then 'passed'
                        when round(lower_bound::numeric, 9) > threshold then 'failed'
                        else 'inconclusive'
                    end
            when comparator = '>='
                and round(observed::numeric, 9) >= threshold then 'passed'
            when comparator = '<='
                and round(observed::numeric, 9) <= threshold then 'passed'
            else 'failed'
        end as status
    from bounded

)

select * from judged
{% endmacro %}
