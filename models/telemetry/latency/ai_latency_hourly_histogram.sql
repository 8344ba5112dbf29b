{{
    config(
        incremental_strategy='replace_groups',
        unique_key=['hour_start', 'selected_provider'],
        indexes=[
            {'columns': ['rolled_up_until']},
            {'columns': ['refreshed_at']},
            {'columns': ['bucket', 'selected_provider', 'hour_start']},
        ],
    )
}}

{%- set previous_until = latency_rollup_previous('rolled_up_until') %}
{%- set lookback_hours = var('latency_rollup_lookback_hours') %}
{%- set lookback_from = "(" ~ previous_until ~ " - interval '" ~ lookback_hours ~ " hours')" %}
{%- set cutoff = var('latency_rollup_cutoff') %}
{%- set cutoff_sql = "now()" if cutoff is none else "'" ~ cutoff ~ "'::timestamptz" %}
{%- set rolled_up_until = "date_trunc('hour', " ~ cutoff_sql ~ ", 'UTC')" %}

-- Latency histogram per provider per complete UTC hour, with log-spaced buckets of
-- bounded relative error (macros/latency). Each bucket row also holds the exact
-- latencies in it: the distinct values (ascending) and the count of each, as two
-- parallel arrays, so the exact path reads only the buckets holding its ranks and
-- the raw table is read once per refresh. `rolled_up_until` is the refresh's cutoff:
-- the latency functions read raw rows after the newest cutoff, so answers never lag.
--
-- A refresh rolls up the hours since the previous cutoff, and recomputes an already
-- rolled-up (hour, provider) only when rows arrived late: within the
-- `latency_rollup_lookback_hours` before the previous cutoff, the raw count of each
-- (hour, provider) is compared with the rolled-up count (an index-only count, much
-- cheaper than recomputing every hour of the lookback).

with

bounds as (

    select {{ rolled_up_until }} as rolled_up_until

),

-- rows since the previous cutoff (everything on a first or full build)
new_generations as (

    {{ raw_latency_rows(
        ref('stg_product__ai_training_examples'),
        previous_until,
        rolled_up_until
    ) }}

),

{% if is_incremental() %}

    raw_counts as (

        select
            selected_provider,
            {{ latency_hour_start('created_at') }} as hour_start,
            count(*) as requests
        from (
            {{ raw_latency_rows(
                ref('stg_product__ai_training_examples'),
                lookback_from,
                previous_until
            ) }}
        ) as lookback_rows
        group by selected_provider, hour_start

    ),

    rolled_up_counts as (

        select
            rolled_up.selected_provider,
            rolled_up.hour_start,
            sum(rolled_up.requests) as requests
        from {{ this }} as rolled_up
        where rolled_up.hour_start >= {{ lookback_from }}
        group by rolled_up.selected_provider, rolled_up.hour_start

    ),

    late_hours as (

        select
            coalesce(raw_counts.selected_provider, rolled_up_counts.selected_provider)
                as selected_provider,
            coalesce(raw_counts.hour_start, rolled_up_counts.hour_start) as hour_start
        from raw_counts
        full outer join rolled_up_counts
            on
                raw_counts.selected_provider = rolled_up_counts.selected_provider
                and raw_counts.hour_start = rolled_up_counts.hour_start
        where raw_counts.requests is distinct from rolled_up_counts.requests

    ),

    -- one index range per late (hour, provider)
    late_generations as (

        select
            late_rows.selected_provider,
            late_rows.created_at,
            late_rows.latency_ms
        from late_hours
        cross join lateral (
            select
                raw_rows.selected_provider,
                raw_rows.created_at,
                raw_rows.latency_ms
            from {{ ref('stg_product__ai_training_examples') }} as raw_rows
            where
                raw_rows.selected_provider = late_hours.selected_provider
                and raw_rows.created_at >= late_hours.hour_start
                and raw_rows.created_at < late_hours.hour_start + interval '1 hour'
                and raw_rows.latency_ms is not null
            offset 0  -- keeps one index range per hour (not flattened into a join)
        ) as late_rows

    ),

{% endif %}

generations as (

    select * from new_generations
    {%- if is_incremental() %}
        union all
        select * from late_generations
    {%- endif %}

),

latency_counts as (

    select
        generations.selected_provider,
        generations.latency_ms,
        {{ latency_hour_start('generations.created_at') }} as hour_start,
        count(*)::integer as requests
    from generations
    group by generations.selected_provider, generations.latency_ms, hour_start

),

bucketed as (

    select
        latency_counts.hour_start,
        latency_counts.selected_provider,
        latency_counts.latency_ms,
        latency_counts.requests,
        {{ latency_histogram_bucket('latency_counts.latency_ms') }} as bucket
    from latency_counts

),

histogram as (

    select
        bucketed.hour_start,
        bucketed.selected_provider,
        bucketed.bucket,
        bounds.rolled_up_until,
        array_agg(bucketed.latency_ms order by bucketed.latency_ms) as latency_values,
        array_agg(bucketed.requests order by bucketed.latency_ms) as latency_counts,
        sum(bucketed.requests)::bigint as requests
    from bucketed
    cross join bounds
    group by
        bucketed.hour_start,
        bucketed.selected_provider,
        bucketed.bucket,
        bounds.rolled_up_until

)

select
    hour_start,
    selected_provider,
    bucket,
    latency_values,
    latency_counts,
    requests,
    rolled_up_until,
    now() as refreshed_at
from histogram
