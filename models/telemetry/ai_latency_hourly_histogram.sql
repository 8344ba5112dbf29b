{{
    config(
        incremental_strategy='delete+insert',
        unique_key=['hour_start', 'selected_provider'],
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['rolled_up_until']}],
    )
}}

-- Latency histogram per provider per complete UTC hour, with log-spaced buckets of
-- bounded relative error (macros/latency). Each refresh recomputes the hours from
-- `latency_rollup_lookback_hours` before the newest rolled-up hour up to the start of
-- the current hour, so rows that arrive late within the lookback are counted.
-- `rolled_up_until` is the refresh's cutoff: ai_latency_percentiles reads raw rows
-- after it, so answers never lag the last refresh.

with

bounds as (

    select
        date_trunc('hour', now(), 'UTC') as rolled_up_until,
        {{ latency_rollup_refresh_from('hour_start') }} as refresh_from

),

-- one index range per provider (macros/latency/raw_latency_rows.sql)
generations as (

    {{ raw_latency_rows(
        source('product', 'ai_training_examples'),
        "(select date_trunc('hour', refresh_from, 'UTC') from bounds)",
        "(select rolled_up_until from bounds)"
    ) }}

),

bucketed as (

    select
        bounds.rolled_up_until,
        generations.selected_provider,
        date_trunc('hour', generations.created_at, 'UTC') as hour_start,
        {{ latency_histogram_bucket('generations.latency_ms') }} as bucket
    from generations
    cross join bounds

),

histogram as (

    select
        hour_start,
        selected_provider,
        bucket,
        rolled_up_until,
        count(*) as requests
    from bucketed
    group by hour_start, selected_provider, bucket, rolled_up_until

)

select
    hour_start,
    selected_provider,
    bucket,
    requests,
    rolled_up_until
from histogram
