{{
    config(
        materialized='incremental',
        full_refresh=false,
        on_schema_change='append_new_columns',
        partition_by_list='run_id',
        pre_hook=["{{ eval_samples_partition_by_run() }}"],
        post_hook=[
            "{{ append_only_guard() }}",
            "{{ eval_samples_run_check(ref('ai_eval_runs')) }}",
        ],
    )
}}

-- depends_on: {{ ref('ai_eval_runs') }}
-- One row per evaluation record, written by `ai-gate run` in the same transaction
-- as its run. Partitioned by run: the runner COPYs a run's samples into a new table,
-- builds its primary key by sorting, and attaches it (docs/eval-records.md).
-- Append-only; dbt never drops it. Its run_id is checked against ai_eval_runs once
-- per statement by a trigger, not by a foreign key (see eval_samples_run_check).

select
    cast(null as text) as run_id,
    cast(null as text) as sample_id,
    cast(null as integer) as line_number,
    cast(null as text) as case_id,
    cast(null as boolean) as schema_valid,
    cast(null as boolean) as safety_html_tailwind_compliant,
    cast(null as boolean) as patch_apply_success,
    cast(null as boolean) as edit_after_generate,
    cast(null as boolean) as publish_conversion,
    cast(null as boolean) as fallback_used,
    cast(null as double precision) as latency_ms,
    cast(null as text) as requested_provider,
    cast(null as text) as selected_provider,
    cast(null as text) as route_strategy,
    cast(null as text) as prompt_template_version,
    cast(null as timestamptz) as created_at,
    cast(null as jsonb) as metadata
where false
