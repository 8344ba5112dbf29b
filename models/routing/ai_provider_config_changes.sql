{{
    config(
        materialized='incremental',
        full_refresh=false,
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['provider', 'environment', 'change_id']},
            {'columns': ['change_set_id']},
        ],
        post_hook=[
            "{{ append_only_guard('Record a new change instead (ai-gate flags set ... --reason ...).') }}",
            "{{ routing_invariants_guard() }}",
        ],
    )
}}

-- The audited flag change log. dbt owns its shape (enforced contract, constraints,
-- indexes) but never its rows: `ai-gate flags set` and the runbook's SQL append to it,
-- and full_refresh=false keeps it through `dbt build --full-refresh`. The database
-- rejects a transaction that breaks a routing invariant (routing_invariants_guard).

select
    cast(null as bigint) as change_id,
    cast(null as uuid) as change_set_id,
    cast(null as text) as provider,
    cast(null as text) as environment,
    cast(null as boolean) as enabled,
    cast(null as boolean) as is_default,
    cast(null as integer) as weight,
    cast(null as integer) as timeout_ms,
    cast(null as integer) as max_retries,
    cast(null as text) as reason,
    cast(null as text) as changed_by,
    cast(null as text) as changed_via,
    cast(null as text) as db_user,
    cast(null as timestamptz) as changed_at,
    cast(null as jsonb) as before_values
where false
