-- Every environment of ai_eval_thresholds lists every gate of ai_eval_gate_definitions
-- exactly once (an empty threshold switches a gate off), so that no gate is forgotten
-- when one is added, whatever the number of gates.

with

thresholds as (

    select * from {{ ref('ai_eval_thresholds') }}

),

gate_definitions as (

    select * from {{ ref('ai_eval_gate_definitions') }}

),

environments as (

    select distinct environment from thresholds

),

expected as (

    select
        environments.environment,
        gate_definitions.gate
    from environments
    cross join gate_definitions

),

listed as (

    select
        environment,
        gate,
        count(*) as listed_rows
    from thresholds
    group by environment, gate

),

validation_errors as (

    select
        expected.environment,
        expected.gate,
        coalesce(listed.listed_rows, 0) as listed_rows
    from expected
    left join listed
        on
            expected.environment = listed.environment
            and expected.gate = listed.gate
    where coalesce(listed.listed_rows, 0) <> 1

)

select * from validation_errors
