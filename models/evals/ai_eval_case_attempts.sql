-- Per run, case and provider: the attempts the provider made of the case (its samples
-- with that case_id) and how many passed (eval_attempt_passes: no error and every check
-- true), and whether the case is quarantined for the run (gate_policy.quarantine). The
-- one home of "an attempt passes" and of grouping a run's samples by case: summary v2
-- reads it for case_pass_k (the cases tried more than once, quarantined ones aside),
-- and `ai-gate run` for each run's flakiness (every case tried more than once).

with

runs as (

    select * from {{ ref('ai_eval_runs') }}

),

samples as (

    select * from {{ ref('ai_eval_samples') }}

),

attempts as (

    select
        samples.run_id,
        samples.case_id,
        samples.selected_provider,
        count(*) as attempts,
        count(*) filter (where {{ eval_attempt_passes('samples') }}) as passes
    from samples
    where samples.case_id is not null
    group by samples.run_id, samples.case_id, samples.selected_provider

),

case_attempts as (

    select
        attempts.run_id,
        attempts.case_id,
        attempts.selected_provider,
        attempts.attempts,
        attempts.passes,
        coalesce(runs.gate_policy -> 'quarantine' ? attempts.case_id, false) as is_quarantined
    from attempts
    inner join runs
        on attempts.run_id = runs.run_id

)

select * from case_attempts
