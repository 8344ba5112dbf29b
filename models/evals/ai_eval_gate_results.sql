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

observed_metrics as (

    select
        summaries.run_id,
        metrics.metric,
        metrics.observed
    from summaries
    cross join lateral (
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
    ) as metrics (metric, observed)

),

run_thresholds as (

    select
        runs.run_id,
        thresholds.gate,
        (thresholds.threshold #>> '{}')::numeric as threshold
    from runs
    cross join lateral jsonb_each(runs.thresholds) as thresholds (gate, threshold)
    where jsonb_typeof(thresholds.threshold) = 'number'

),

judged as (

    select
        run_thresholds.run_id,
        run_thresholds.gate,
        gate_definitions.metric,
        gate_definitions.comparator,
        run_thresholds.threshold,
        observed_metrics.observed,
        case
            when observed_metrics.observed is null then 'skipped'
            when gate_definitions.comparator = '>='
                and round(observed_metrics.observed::numeric, 9)
                >= run_thresholds.threshold then 'passed'
            when gate_definitions.comparator = '<='
                and round(observed_metrics.observed::numeric, 9)
                <= run_thresholds.threshold then 'passed'
            else 'failed'
        end as status
    from run_thresholds
    inner join gate_definitions
        on run_thresholds.gate = gate_definitions.gate
    left join observed_metrics
        on
            run_thresholds.run_id = observed_metrics.run_id
            and gate_definitions.metric = observed_metrics.metric

)

select * from judged
