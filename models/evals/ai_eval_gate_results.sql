-- One row per run and gate that the run's own thresholds snapshot switches on: the
-- observed metric against the threshold, judged (ai_eval_run_judgement, the judging
-- rules' one home, says how). `skipped` when the metric has no data. A run's failed
-- gates:
--   select * from ai_eval_gate_results where run_id = '...' and status = 'failed'

with

judgement as (

    select * from {{ ref('ai_eval_run_judgement') }}

),

gate_results as (

    select
        run_id,
        gate,
        metric,
        comparator,
        threshold,
        min_samples,
        observed,
        observed_count,
        policy,
        lower_bound,
        upper_bound,
        status
    from judgement
    where gate is not null

)

select * from gate_results
