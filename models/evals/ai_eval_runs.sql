{{
    config(
        materialized='incremental',
        full_refresh=false,
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['environment', 'started_at']},
        ],
        post_hook=["{{ eval_runs_status_values() }}", "{{ eval_runs_guard() }}"],
    )
}}

-- One row per evaluation run. dbt owns the shape; `ai-gate run` writes the rows
-- (status `running` while ingesting, then a terminal status) and dbt never drops them;
-- a trigger rejects deleting a run or changing its run_id (eval_runs_guard).

select
    cast(null as text) as run_id,
    cast(null as text) as run_type,
    cast(null as text) as environment,
    cast(null as text) as triggered_by,
    cast(null as text) as ci_job_id,
    cast(null as text) as git_sha,
    cast(null as jsonb) as thresholds,
    cast(null as boolean) as strict,
    cast(null as boolean) as is_synthetic,
    cast(null as text) as status,
    cast(null as timestamptz) as started_at,
    cast(null as timestamptz) as finished_at,
    cast(null as text) as source_file,
    cast(null as text) as source_sha256,
    cast(null as jsonb) as metadata,
    cast(null as jsonb) as verdict,
    cast(null as jsonb) as gate_policy,
    cast(null as text) as baseline_run_id
where false
