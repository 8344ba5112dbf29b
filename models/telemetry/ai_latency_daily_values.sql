{{
    config(
        incremental_strategy='delete+insert',
        unique_key=['day', 'selected_provider'],
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['rolled_up_until']}],
        post_hook=["{{ create_latency_functions() }}"],
    )
}}

-- depends_on: {{ ref('ai_latency_daily_histogram') }}
-- For the exact (audit) path: per UTC day and provider, the count of each distinct
-- integer latency. percentile_cont over a window is computed exactly from these
-- counts plus raw rows at the window's edges.

with

bounds as (

    select
        date_trunc('hour', now(), 'UTC') as rolled_up_until,
        {{ latency_rollup_refresh_from('day') }} as refresh_from

),

-- one index range per provider (macros/latency/raw_latency_rows.sql)
generations as (

    {{ raw_latency_rows(
        source('product', 'ai_training_examples'),
        "(select date_trunc('day', refresh_from, 'UTC') from bounds)",
        "(select rolled_up_until from bounds)"
    ) }}

),

days as (

    select
        bounds.rolled_up_until,
        generations.selected_provider,
        generations.latency_ms,
        date_trunc('day', generations.created_at, 'UTC') as day
    from generations
    cross join bounds

),

latency_counts as (

    select
        day,
        selected_provider,
        latency_ms,
        rolled_up_until,
        count(*) as requests
    from days
    group by day, selected_provider, latency_ms, rolled_up_until

)

select
    day,
    selected_provider,
    latency_ms,
    requests,
    rolled_up_until
from latency_counts
