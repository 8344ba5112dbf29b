{{
    config(
        materialized='incremental',
        full_refresh=false,
        on_schema_change='append_new_columns',
        post_hook=[
            "{{ append_only_guard('A drill is evidence: run another (ai-gate drill rollback).') }}",
        ],
    )
}}

-- Evidence of every rollback drill (`ai-gate drill rollback`): the flags before, during
-- and after, each step with its time, and the verification results. Append-only.

select
    cast(null as uuid) as drill_id,
    cast(null as text) as environment,
    cast(null as text) as canary,
    cast(null as text) as baseline,
    cast(null as text) as run_by,
    cast(null as timestamptz) as started_at,
    cast(null as timestamptz) as finished_at,
    cast(null as boolean) as succeeded,
    cast(null as jsonb) as before_state,
    cast(null as jsonb) as during_state,
    cast(null as jsonb) as after_state,
    cast(null as jsonb) as steps,
    cast(null as text) as error
where false
