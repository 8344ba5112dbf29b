{{
    config(
        materialized='incremental',
        full_refresh=false,
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['environment', 'canary', 'decision_id']},
        ],
        post_hook=[
            "{{ append_only_guard('A decision is evidence: evaluate again (ai-gate canary evaluate).') }}",
        ],
    )
}}

-- Every canary decision `ai-gate canary evaluate` made, with its inputs: the window,
-- both arms' statistics, every rule with its threshold, and the configuration
-- snapshots it was judged by. Append-only, never dropped.

select
    cast(null as bigint) as decision_id,
    cast(null as timestamptz) as decided_at,
    cast(null as text) as decided_by,
    cast(null as text) as environment,
    cast(null as text) as canary,
    cast(null as text) as baseline,
    cast(null as timestamptz) as window_start,
    cast(null as timestamptz) as window_end,
    cast(null as text) as eval_run_id,
    cast(null as text) as decision,
    cast(null as jsonb) as rules,
    cast(null as jsonb) as arms,
    cast(null as jsonb) as guardrails,
    cast(null as jsonb) as rollback_triggers,
    cast(null as integer) as synthetic_rows,
    cast(null as integer) as production_rows,
    cast(null as integer) as synthetic_eval_samples,
    cast(null as boolean) as is_synthetic,
    cast(null as text) as method,
    cast(null as double precision) as alpha,
    cast(null as integer) as look,
    cast(null as timestamptz) as step_start,
    cast(null as jsonb) as ignored_eval_runs,
    cast(null as jsonb) as evidence_eval_runs
where false
