{#-
    Post-hook of ai_latency_cumulative_histogram: (re)creates the supported latency API.

      ai_latency_percentiles(since, until default now())        histogram, <= alpha error
      ai_latency_percentiles_exact(since, until default now())  exact percentile_cont

    Both return one row per selected_provider plus an overall row (selected_provider
    null): requests, p50_ms, p95_ms, p99_ms over created_at in [since, until). Whole
    days come from the daily rollups (the histogram path: the difference of two
    prefix sums), whole hours from the hourly one, and everything else (window edges,
    rows newer than the last refresh) from the raw table, so answers never lag the
    rollups.
-#}
{% macro create_latency_functions() %}
{%- set schema = this.schema -%}
{#- Function bodies are text, resolved when they run: name relations without the
    database, so a database cloned from this one (CREATE DATABASE ... TEMPLATE) works. -#}
{%- set raw = ref('stg_product__ai_training_examples').include(database=false) -%}
{%- set hourly = ref('ai_latency_hourly_histogram').include(database=false) -%}
{%- set daily = ref('ai_latency_daily_histogram').include(database=false) -%}
{%- set cumulative = this.include(database=false) -%}

{{ create_latency_window_bounds(schema) }}

create or replace function {{ schema }}.ai_latency_histogram(
    since timestamptz, until timestamptz default now()
)
returns table (selected_provider text, bucket integer, requests bigint)
language plpgsql
stable
set search_path = pg_catalog, pg_temp
-- a few thousand rows: JIT compilation would cost more than it saves
set jit = off
as $ai_gate$
declare
    hours_from timestamptz;
    hours_to timestamptz;
    days_from timestamptz;
    days_to timestamptz;
begin
{{ select_latency_window_bounds(schema, hourly, cumulative) }}
    return query
    select parts.selected_provider, parts.bucket, sum(parts.requests)::bigint
    from (
        -- whole days: C(days_to) - C(days_from), each the stored day at or before
        select c.selected_provider, c.bucket, c.requests_before as requests
        from {{ cumulative }} as c
        where c.day = (
            select max(c_to.day) from {{ cumulative }} as c_to where c_to.day <= days_to
        )
        union all
        select c.selected_provider, c.bucket, -c.requests_before
        from {{ cumulative }} as c
        where c.day = (
            select max(c_from.day) from {{ cumulative }} as c_from where c_from.day <= days_from
        )
        union all
{{ latency_edge_hour_counts(hourly) }}
        union all
        select
            r.selected_provider,
            {{ latency_histogram_bucket('r.latency_ms') }},
            count(*)
        from (
{{ latency_raw_edges(raw) }}
        ) as r
        group by 1, 2
    ) as parts
    group by 1, 2
    having sum(parts.requests) > 0;
end
$ai_gate$;

create or replace function {{ schema }}.ai_latency_percentiles(
    since timestamptz, until timestamptz default now()
)
returns table (
    selected_provider text,
    requests bigint,
    p50_ms double precision,
    p95_ms double precision,
    p99_ms double precision
)
language sql
stable
set search_path = pg_catalog, pg_temp
-- a few thousand rows: JIT compilation would cost more than it saves
set jit = off
as $ai_gate$
    with
    parts as (
        select h.selected_provider as grp, h.bucket, h.requests as n
        from {{ schema }}.ai_latency_histogram(since, until) as h
    ),
    rank_buckets as (
{{ latency_rank_buckets('parts') }}
    ),
    valued as (
        select rank_buckets.*, {{ latency_histogram_value('rank_buckets.bucket') }} as value
        from rank_buckets
    )
    {{ latency_percentile_columns('valued') }}
$ai_gate$;

{#- The exact path finds the bucket holding each wanted rank from bucket counts (the
    same merge as the histogram path), then reads only those buckets' exact values
    (the hourly rows' arrays, and raw rows at the edges): a few thousand values
    instead of every row of the window. #}
create or replace function {{ schema }}.ai_latency_percentiles_exact(
    since timestamptz, until timestamptz default now()
)
returns table (
    selected_provider text,
    requests bigint,
    p50_ms double precision,
    p95_ms double precision,
    p99_ms double precision
)
language plpgsql
stable
set search_path = pg_catalog, pg_temp
-- a few thousand rows: JIT compilation would cost more than it saves
set jit = off
as $ai_gate$
declare
    daily_current boolean;
    hours_from timestamptz;
    hours_to timestamptz;
    days_from timestamptz;
    days_to timestamptz;
begin
{{ select_latency_window_bounds(schema, hourly, daily) }}
    -- Whole days' counts must be the sums of the hourly rows whose values are read:
    -- true when the daily rollup was refreshed after the hourly one last wrote.
    -- Otherwise count those days from the hourly rows too (slower, still exact).
    select
        coalesce((select max(d.refreshed_at) from {{ daily }} as d), '-infinity')
        >= coalesce((select max(h.refreshed_at) from {{ hourly }} as h), '-infinity')
    into daily_current;
    if not daily_current then
        days_from := hours_from;
        days_to := hours_from;
    end if;
    return query
    with
    edge_rows as materialized (
        select
            r.selected_provider as grp,
            r.latency_ms,
            {{ latency_histogram_bucket('r.latency_ms') }} as bucket
        from (
{{ latency_raw_edges(raw) }}
        ) as r
    ),
    parts as (
        select d.selected_provider as grp, d.bucket, d.requests as n
        from {{ daily }} as d
        where d.day >= days_from and d.day < days_to
        union all
{{ latency_edge_hour_counts(hourly) }}
        union all
        select e.grp, e.bucket, count(*)
        from edge_rows as e
        group by 1, 2
    ),
    rank_buckets as (
{{ latency_rank_buckets('parts') }}
    ),
    wanted_buckets as (
        select distinct rank_buckets.grouping_key, rank_buckets.grp, rank_buckets.bucket
        from rank_buckets
    ),
    bucket_values as (
        -- lateral: one index range of (bucket, selected_provider, hour_start) per bucket
        select w.grouping_key, w.bucket, v.latency_ms, v.n
        from wanted_buckets as w
        cross join lateral (
            select hour_rows.latency_values, hour_rows.latency_counts
            from {{ hourly }} as hour_rows
            where
                hour_rows.bucket = w.bucket
                and (w.grp is null or hour_rows.selected_provider = w.grp)
                and hour_rows.hour_start >= hours_from
                and hour_rows.hour_start < hours_to
            offset 0  -- keeps the lateral scan per bucket (not flattened into a hash join)
        ) as hour_bucket
        cross join lateral
            unnest(hour_bucket.latency_values, hour_bucket.latency_counts) as v (latency_ms, n)
        union all
        select w.grouping_key, w.bucket, e.latency_ms, 1
        from wanted_buckets as w
        inner join edge_rows as e
            on
                e.bucket = w.bucket
                and (w.grp is null or e.grp = w.grp)
    ),
    value_ranks as (
        select
            grouping_key,
            bucket,
            latency_ms,
            sum(n) as n,
            sum(sum(n)) over (
                partition by grouping_key, bucket order by latency_ms
                rows unbounded preceding
            ) as up_to
        from bucket_values
        group by grouping_key, bucket, latency_ms
    ),
    valued as (
        select rank_buckets.*, value_ranks.latency_ms::double precision as value
        from rank_buckets
        inner join value_ranks
            on
                rank_buckets.grouping_key = value_ranks.grouping_key
                and rank_buckets.bucket = value_ranks.bucket
                and rank_buckets.rank - rank_buckets.below >= value_ranks.up_to - value_ranks.n
                and rank_buckets.rank - rank_buckets.below < value_ranks.up_to
    )
    {{ latency_percentile_columns('valued') }};
end
$ai_gate$;

{% for signature in [
    'ai_latency_window_bounds(timestamptz, timestamptz, timestamptz, timestamptz)',
    'ai_latency_histogram(timestamptz, timestamptz)',
    'ai_latency_percentiles(timestamptz, timestamptz)',
    'ai_latency_percentiles_exact(timestamptz, timestamptz)',
] %}
revoke all on function {{ schema }}.{{ signature }} from public;
{{ revoke_api_role_privileges(schema ~ '.' ~ signature, 'function') }}
{% endfor %}
{% endmacro %}
