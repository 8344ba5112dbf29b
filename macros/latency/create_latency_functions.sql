{#-
    Post-hook of ai_latency_daily_values: (re)creates the supported latency API.

      ai_latency_percentiles(since, until default now())        histogram, <= alpha error
      ai_latency_percentiles_exact(since, until default now())  exact percentile_cont

    Both return one row per selected_provider plus an overall row (selected_provider
    null): requests, p50_ms, p95_ms, p99_ms over created_at in [since, until). Whole
    days come from the daily rollup, whole hours (approximate path) from the hourly
    one, and everything else (window edges, rows newer than the last refresh) from
    the raw table, so answers never lag the rollups.
-#}
{% macro create_latency_functions() %}
{%- set schema = this.schema -%}
{#- Function bodies are text, resolved when they run: name relations without the
    database, so a database cloned from this one (CREATE DATABASE ... TEMPLATE) works. -#}
{%- set raw = source('product', 'ai_training_examples').include(database=false) -%}
{%- set hourly = ref('ai_latency_hourly_histogram').include(database=false) -%}
{%- set daily = ref('ai_latency_daily_histogram').include(database=false) -%}
{%- set daily_values = this.include(database=false) -%}

create or replace function {{ schema }}.ai_latency_histogram(
    since timestamptz, until timestamptz default now()
)
returns table (selected_provider text, bucket integer, requests bigint)
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $ai_gate$
declare
    hourly_until timestamptz;
    daily_until timestamptz;
    hours_from timestamptz;
    hours_to timestamptz;
    days_from timestamptz;
    days_to timestamptz;
begin
    select coalesce(max(h.rolled_up_until), '-infinity') into hourly_until
    from {{ hourly }} as h;
    select coalesce(max(d.rolled_up_until), '-infinity') into daily_until
    from {{ daily }} as d;
    -- whole hours inside [since, least(until, hourly_until))
    hours_from := date_trunc('hour', since, 'UTC');
    if hours_from < since then hours_from := hours_from + interval '1 hour'; end if;
    hours_to := date_trunc('hour', least(until, hourly_until), 'UTC');
    if hours_to <= hours_from then
        hours_from := since;
        hours_to := since;
    end if;
    -- whole days inside those hours, complete in the daily rollup
    days_from := date_trunc('day', hours_from, 'UTC');
    if days_from < hours_from then days_from := days_from + interval '1 day'; end if;
    days_to := least(date_trunc('day', hours_to, 'UTC'), date_trunc('day', daily_until, 'UTC'));
    if days_to <= days_from then
        days_from := hours_from;
        days_to := hours_from;
    end if;
    return query
    select parts.selected_provider, parts.bucket, sum(parts.requests)::bigint
    from (
        select d.selected_provider, d.bucket, d.requests
        from {{ daily }} as d
        where d.day >= days_from and d.day < days_to
        union all
        select h.selected_provider, h.bucket, h.requests
        from {{ hourly }} as h
        where
            (h.hour_start >= hours_from and h.hour_start < days_from)
            or (h.hour_start >= days_to and h.hour_start < hours_to)
        union all
        select
            r.selected_provider,
            {{ latency_histogram_bucket('r.latency_ms') }},
            count(*)
        from (
            {{ raw_latency_rows(raw, 'since', 'hours_from') }}
            union all
            {{ raw_latency_rows(raw, 'hours_to', 'until') }}
        ) as r
        group by 1, 2
    ) as parts
    group by 1, 2;
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
as $ai_gate$
    with weighted as (
        select
            h.selected_provider as grp,
            {{ latency_histogram_value('h.bucket') }} as value,
            h.requests as n
        from {{ schema }}.ai_latency_histogram(since, until) as h
    )
    {{ latency_weighted_percentiles('weighted') }}
$ai_gate$;

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
as $ai_gate$
declare
    values_until timestamptz;
    days_from timestamptz;
    days_to timestamptz;
begin
    select coalesce(max(v.rolled_up_until), '-infinity') into values_until
    from {{ daily_values }} as v;
    days_from := date_trunc('day', since, 'UTC');
    if days_from < since then days_from := days_from + interval '1 day'; end if;
    days_to := least(date_trunc('day', until, 'UTC'), date_trunc('day', values_until, 'UTC'));
    if days_to <= days_from then
        days_from := since;
        days_to := since;
    end if;
    return query
    with weighted as (
        select v.selected_provider as grp, v.latency_ms::double precision as value, v.requests as n
        from {{ daily_values }} as v
        where v.day >= days_from and v.day < days_to
        union all
        select r.selected_provider, r.latency_ms::double precision, count(*)
        from (
            {{ raw_latency_rows(raw, 'since', 'days_from') }}
            union all
            {{ raw_latency_rows(raw, 'days_to', 'until') }}
        ) as r
        group by 1, 2
    )
    {{ latency_weighted_percentiles('weighted') }};
end
$ai_gate$;

{% for signature in [
    'ai_latency_histogram(timestamptz, timestamptz)',
    'ai_latency_percentiles(timestamptz, timestamptz)',
    'ai_latency_percentiles_exact(timestamptz, timestamptz)',
] %}
revoke all on function {{ schema }}.{{ signature }} from public;
{{ revoke_api_role_privileges(schema ~ '.' ~ signature, 'function') }}
{% endfor %}
{% endmacro %}
