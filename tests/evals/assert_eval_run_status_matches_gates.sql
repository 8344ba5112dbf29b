-- A judged run's stored status is what its gate results say (verdicts.run_status):
-- failed when a gate failed or its baseline comparison found a regression, or, for a
-- strict run, when a gate was skipped or inconclusive; inconclusive when a gate was
-- (too few samples, or the confidence policy) or no gate was judged; passed otherwise.

with

runs as (

    select * from {{ ref('ai_eval_runs') }}

),

gate_results as (

    select * from {{ ref('ai_eval_gate_results') }}

),

gate_counts as (

    select
        run_id,
        count(*) filter (where status = 'failed') as failed_gates,
        count(*) filter (where status = 'skipped') as skipped_gates,
        count(*) filter (where status = 'inconclusive') as inconclusive_gates,
        count(*) filter (where status = 'passed') as passed_gates
    from gate_results
    group by run_id

),

expected as (

    select
        runs.run_id,
        runs.status,
        case
            when coalesce(gate_counts.failed_gates, 0) > 0 then 'failed'
            when coalesce((runs.verdict #>> '{baseline,regressed}')::boolean, false) then 'failed'
            when
                runs.strict
                and coalesce(gate_counts.skipped_gates + gate_counts.inconclusive_gates, 0) > 0
                then 'failed'
            when coalesce(gate_counts.inconclusive_gates, 0) > 0 then 'inconclusive'
            when coalesce(gate_counts.passed_gates, 0) = 0 then 'inconclusive'
            else 'passed'
        end as expected_status
    from runs
    left join gate_counts
        on runs.run_id = gate_counts.run_id
    where runs.status in ('passed', 'failed', 'inconclusive')

),

validation_errors as (

    select
        run_id,
        status,
        expected_status
    from expected
    where status <> expected_status

)

select * from validation_errors
