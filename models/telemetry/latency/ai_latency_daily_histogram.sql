{{
    config(
        incremental_strategy='replace_groups',
        unique_key=['day', 'selected_provider'],
        indexes=[{'columns': ['rolled_up_until']}, {'columns': ['refreshed_at']}],
    )
}}

-- The hourly histograms merged per UTC day (counts only), so a 90-day window is a
-- merge of a few hundred rows per provider per day. A refresh recomputes, from the
-- hourly rows, the (day, provider) groups with an hour written since its last
-- refresh (newer `refreshed_at`: new or late rows); `rolled_up_until` is the hourly
-- cutoff it saw.

with

-- not materialized: read through its indexes, not copied whole
hourly as not materialized (

    select * from {{ ref('ai_latency_hourly_histogram') }}

),

bounds as (

    select
        coalesce(
            (select max(rolled_up_until) from hourly), '-infinity'::timestamptz
        ) as rolled_up_until

),

changed_days as (

    select distinct
        hourly.selected_provider,
        date_trunc('day', hourly.hour_start, 'UTC') as day
    from hourly
    where hourly.refreshed_at > {{ latency_rollup_previous('refreshed_at') }}

),

-- one index range of the hourly rollup per changed (day, provider)
day_hours as (

    select
        changed_days.day,
        changed_days.selected_provider,
        hours.bucket,
        hours.requests
    from changed_days
    cross join lateral (
        select
            hourly_rows.bucket,
            hourly_rows.requests
        from {{ ref('ai_latency_hourly_histogram') }} as hourly_rows
        where
            hourly_rows.hour_start >= changed_days.day
            and hourly_rows.hour_start < changed_days.day + interval '24 hours'
            and hourly_rows.selected_provider = changed_days.selected_provider
        offset 0  -- keeps one index range per day (not flattened into a join)
    ) as hours

),

daily as (

    select
        day_hours.day,
        day_hours.selected_provider,
        day_hours.bucket,
        bounds.rolled_up_until,
        sum(day_hours.requests)::bigint as requests
    from day_hours
    cross join bounds
    group by
        day_hours.day,
        day_hours.selected_provider,
        day_hours.bucket,
        bounds.rolled_up_until

)

select
    day,
    selected_provider,
    bucket,
    requests,
    rolled_up_until,
    now() as refreshed_at
from daily
