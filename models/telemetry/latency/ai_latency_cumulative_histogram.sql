{{
    config(
        incremental_strategy='replace_groups',
        unique_key=['day'],
        indexes=[{'columns': ['rolled_up_until']}, {'columns': ['refreshed_at']}],
        post_hook=["{{ create_latency_functions() }}"],
    )
}}

-- depends_on: {{ ref('ai_latency_hourly_histogram') }}
-- Prefix sums of the daily histograms: the row for `day` D holds, per provider and
-- bucket, the generations of every day before D. The whole days of any window
-- [A, B) are then C(B) - C(A), two lookups of about a thousand rows each, however
-- long the window. C only changes after a day with data, so rows are stored for the
-- day after each such day, and C(X) is the stored day at or before X.
--
-- A refresh starts at R, the earliest day the daily rollup rewrote since the last
-- refresh: C(R) is still valid (it depends on days before R), and every stored day
-- after R is recomputed from it. Its post-hook creates the latency functions.

{%- set previous_refresh = latency_rollup_previous('refreshed_at') %}
{#- on a first or full build there are no stored prefix sums -#}
{%- set stored_prefix_sums = this if is_incremental() else "(
        select
            null::timestamptz as day,
            null::text as selected_provider,
            null::integer as bucket,
            null::bigint as requests_before
        where false
    )" %}

with

-- not materialized: read through its indexes, not copied whole
daily as not materialized (

    select * from {{ ref('ai_latency_daily_histogram') }}

),

bounds as (

    select
        (select min(daily.day) from daily where daily.refreshed_at > {{ previous_refresh }})
            as changed_from,
        coalesce(
            (select max(daily.rolled_up_until) from daily), '-infinity'::timestamptz
        ) as rolled_up_until

),

-- C(R): the stored prefix sums at or before the first changed day
base_day as (

    select max(stored.day) as day
    from {{ stored_prefix_sums }} as stored
    cross join bounds
    where stored.day <= bounds.changed_from

),

base as (

    select
        stored.selected_provider,
        stored.bucket,
        stored.requests_before
    from {{ stored_prefix_sums }} as stored
    inner join base_day on stored.day = base_day.day

),

changed_days as (

    select
        daily.day,
        daily.selected_provider,
        daily.bucket,
        daily.requests
    from daily
    where daily.day >= (select bounds.changed_from from bounds)

),

stored_days as (

    select distinct changed_days.day + interval '24 hours' as day
    from changed_days

),

histogram_keys as (

    select
        base.selected_provider,
        base.bucket
    from base
    union
    select
        changed_days.selected_provider,
        changed_days.bucket
    from changed_days

),

prefix_sums as (

    select
        stored_days.day,
        histogram_keys.selected_provider,
        histogram_keys.bucket,
        coalesce(base.requests_before, 0)
        + coalesce(
            sum(changed_days.requests) over (
                partition by histogram_keys.selected_provider, histogram_keys.bucket
                order by stored_days.day
                rows unbounded preceding
            ),
            0
        ) as requests_before
    from stored_days
    cross join histogram_keys
    left join changed_days
        on
            histogram_keys.selected_provider = changed_days.selected_provider
            and histogram_keys.bucket = changed_days.bucket
            and stored_days.day - interval '24 hours' = changed_days.day
    left join base
        on
            histogram_keys.selected_provider = base.selected_provider
            and histogram_keys.bucket = base.bucket

)

select
    prefix_sums.day,
    prefix_sums.selected_provider,
    prefix_sums.bucket,
    prefix_sums.requests_before::bigint as requests_before,
    bounds.rolled_up_until,
    now() as refreshed_at
from prefix_sums
cross join bounds
where prefix_sums.requests_before > 0
