{{
    config(
        incremental_strategy='delete+insert',
        unique_key=['day', 'selected_provider'],
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['rolled_up_until']}],
    )
}}

-- The hourly histograms merged per UTC day (histograms with the same buckets add), so
-- a 90-day window is a merge of a few hundred rows per provider. A day is only read
-- once it is complete before `rolled_up_until`.

with

hourly as (

    select * from {{ ref('ai_latency_hourly_histogram') }}

),

bounds as (

    select
        coalesce(
            (select max(rolled_up_until) from hourly), '-infinity'::timestamptz
        ) as rolled_up_until,
        {{ latency_rollup_refresh_from('day') }} as refresh_from

),

days as (

    select
        bounds.rolled_up_until,
        hourly.selected_provider,
        hourly.bucket,
        hourly.requests,
        date_trunc('day', hourly.hour_start, 'UTC') as day
    from hourly
    cross join bounds
    where hourly.hour_start >= date_trunc('day', bounds.refresh_from, 'UTC')

),

daily as (

    select
        day,
        selected_provider,
        bucket,
        rolled_up_until,
        sum(requests)::bigint as requests
    from days
    group by day, selected_provider, bucket, rolled_up_until

)

select
    day,
    selected_provider,
    bucket,
    requests,
    rolled_up_until
from daily
