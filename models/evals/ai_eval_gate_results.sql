-- One row per run and gate that the run's own thresholds snapshot switches on:
-- the observed metric against the threshold. `skipped` when the metric has no
-- data. A run's failed gates:
--   select * from ai_eval_gate_results where run_id = '...' and status = 'failed'
-- Observed values are rounded to 9 decimals before the comparison, so a rate of
-- exactly the threshold (19/20 against 0.95) is not failed by float noise.

with

runs as (

    select * from {{ ref('ai_eval_runs') }}

),

summaries as (

    select * from {{ ref('ai_eval_run_summary_v1') }}

),

gate_definitions as (

    select * from {{ ref('ai_eval_gate_definitions') }}

),

gate_inputs as (

    -- The thresholds are expanded lateral to the summary as well as to the run, so
    -- the summary (an aggregate over the run's samples) stays on the outer side of
    -- every join and is computed once per run: the planner estimates one threshold
    -- row and would otherwise recompute it once per gate.
    select
        summaries.run_id,
        thresholds.gate,
        gate_definitions.metric,
        gate_definitions.comparator,
        observed_metrics.observed,
        (thresholds.threshold #>> '{}')::numeric as threshold
    from summaries
    inner join runs
        on summaries.run_id = runs.run_id
    cross join
        lateral jsonb_each(
            case when summaries.run_id is not null then runs.thresholds end
        ) as thresholds (gate, threshold)
    inner join gate_definitions
        on thresholds.gate = gate_definitions.gate
    left join
        lateral (
            values
            ('schema_valid_rate', summaries.schema_valid_rate),
            ('patch_apply_success', summaries.patch_apply_success),
            ('edit_after_generate_rate', summaries.edit_after_generate_rate),
            ('publish_conversion_proxy', summaries.publish_conversion_proxy),
            (
                'safety_html_tailwind_compliance',
                summaries.safety_html_tailwind_compliance
            ),
            ('fallback_rate', summaries.fallback_rate),
            ('p95_latency_ms', summaries.p95_latency_ms)
        ) as observed_metrics (metric, observed)
        on gate_definitions.metric = observed_metrics.metric
    where jsonb_typeof(thresholds.threshold) = 'number'

),

judged as (

    select
        run_id,
        gate,
        metric,
        comparator,
        threshold,
        observed,
        case
            when observed is null then 'skipped'
            when comparator = '>='
                and round(observed::numeric, 9) >= threshold then 'passed'
            when comparator = '<='
                and round(observed::numeric, 9) <= threshold then 'passed'
            else 'failed'
        end as status
    from gate_inputs

)

select * from judged
