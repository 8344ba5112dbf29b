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

generations as (

    select * from {{ source('product', 'ai_training_examples') }}

),

bounds as (

    select
        date_trunc('hour', now(), 'UTC') as rolled_up_until,
        {% if is_incremental() -%}
            coalesce(
                (select max(day) from {{ this }})
                - interval '{{ var("latency_rollup_lookback_hours") }} hours',
                '-infinity'::timestamptz
            )
        {%- else -%}
            '-infinity'::timestamptz
        {%- endif %} as refresh_from

),

days as (

    select
        bounds.rolled_up_until,
        generations.selected_provider,
        generations.latency_ms,
        date_trunc('day', generations.created_at, 'UTC') as day
    from generations
    cross join bounds
    where
        generations.created_at >= date_trunc('day', bounds.refresh_from, 'UTC')
        and generations.created_at < bounds.rolled_up_until
        and generations.selected_provider is not null
        and generations.latency_ms is not null

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
