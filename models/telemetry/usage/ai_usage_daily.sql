{{
    config(
        incremental_strategy='replace_groups',
        unique_key=['day', 'selected_provider'],
        indexes=[{'columns': ['rolled_up_until']}, {'columns': ['refreshed_at']}],
        post_hook=["{{ create_usage_functions() }}"],
    )
}}

-- The hourly usage merged per UTC day (sums, and the token histograms merged bucket
-- by bucket), so a 90-day window reads a few hundred rows. A refresh recomputes, from
-- the hourly rows, the (day, provider) groups with an hour written since its last
-- refresh (newer `refreshed_at`: new or late rows); `rolled_up_until` is the hourly
-- cutoff it saw (ai_usage_by_provider reads only the days complete by then). Its
-- post-hook creates ai_usage_by_provider, the window function over both rollups and
-- the raw rows after them, with the latency functions' window split:
-- depends_on: {{ ref('ai_latency_cumulative_histogram') }}

with

-- not materialized: read through its indexes, not copied whole
hourly as not materialized (

    select * from {{ ref('ai_usage_hourly') }}

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

day_hours as (

    select
        hourly.*,
        changed_days.day
    from changed_days
    inner join hourly
        on
            changed_days.selected_provider = hourly.selected_provider
            and changed_days.day <= hourly.hour_start
            and changed_days.day + interval '24 hours' > hourly.hour_start

),

daily_sums as (

    select
        day,
        selected_provider,
        sum(generations)::bigint as generations,
        sum(token_generations)::bigint as token_generations,
        sum(input_tokens)::bigint as input_tokens,
        sum(output_tokens)::bigint as output_tokens,
        sum(cost_generations)::bigint as cost_generations,
        sum(priced_generations)::bigint as priced_generations,
        sum(cost_usd) as cost_usd,
        sum(fallback_generations)::bigint as fallback_generations,
        sum(fallback_cost_generations)::bigint as fallback_cost_generations,
        sum(fallback_cost_usd) as fallback_cost_usd
    from day_hours
    group by day, selected_provider

),

day_buckets as (

    select
        day_hours.day,
        day_hours.selected_provider,
        token_counts.bucket,
        sum(token_counts.generations)::bigint as generations
    from day_hours
    cross join
        lateral unnest(day_hours.token_buckets, day_hours.token_bucket_counts)
            as token_counts (bucket, generations)
    group by day_hours.day, day_hours.selected_provider, token_counts.bucket

),

day_histograms as (

    select
        day,
        selected_provider,
        array_agg(bucket order by bucket) as token_buckets,
        array_agg(generations order by bucket) as token_bucket_counts
    from day_buckets
    group by day, selected_provider

),

rolled_up as (

    select
        daily_sums.day,
        daily_sums.selected_provider,
        daily_sums.generations,
        daily_sums.token_generations,
        daily_sums.input_tokens,
        daily_sums.output_tokens,
        daily_sums.cost_generations,
        daily_sums.priced_generations,
        daily_sums.cost_usd,
        daily_sums.fallback_generations,
        daily_sums.fallback_cost_generations,
        daily_sums.fallback_cost_usd,
        bounds.rolled_up_until,
        coalesce(day_histograms.token_buckets, '{}') as token_buckets,
        coalesce(day_histograms.token_bucket_counts, '{}') as token_bucket_counts,
        now() as refreshed_at
    from daily_sums
    cross join bounds
    left join day_histograms
        on
            daily_sums.day = day_histograms.day
            and daily_sums.selected_provider = day_histograms.selected_provider

)

select * from rolled_up
