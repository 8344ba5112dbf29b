{#-
    Post-hook of ai_usage_daily: (re)creates

      ai_usage_by_provider(since, until default now())

    one row per selected_provider over created_at in [since, until): generations; with
    tokens, their count, mean input and output tokens and the p50 and p95 of total
    tokens per generation (the token histograms: within
    var usage_token_histogram_relative_error); costs known (recorded or priced) and of
    them priced, unknown, their total and mean per generation; fallbacks, their total
    cost and mean cost per fallback. Whole days come from ai_usage_daily, whole hours
    from ai_usage_hourly and the rest (window edges, rows newer than the last refresh)
    from the raw table, split as the latency functions split theirs
    (ai_latency_window_bounds), so answers never lag the rollups.
-#}
{% macro create_usage_functions() %}
{%- set schema = this.schema -%}
{#- Function bodies are text, resolved when they run: name relations without the
    database, so a database cloned from this one (CREATE DATABASE ... TEMPLATE) works. -#}
{%- set raw = ref('stg_product__ai_training_examples').include(database=false) -%}
{%- set hourly = ref('ai_usage_hourly').include(database=false) -%}
{%- set daily = this.include(database=false) -%}
{%- set token_error = var('usage_token_histogram_relative_error') -%}

create or replace function {{ schema }}.ai_usage_by_provider(
    since timestamptz, until timestamptz default now()
)
returns table (
    selected_provider text,
    generations bigint,
    token_generations bigint,
    mean_input_tokens double precision,
    mean_output_tokens double precision,
    p50_tokens double precision,
    p95_tokens double precision,
    cost_generations bigint,
    priced_generations bigint,
    unknown_cost_generations bigint,
    cost_usd double precision,
    mean_cost_usd double precision,
    fallback_generations bigint,
    fallback_cost_usd double precision,
    mean_fallback_cost_usd double precision
)
language plpgsql
stable
set search_path = pg_catalog, pg_temp
-- a few thousand rows: JIT compilation would cost more than it saves
set jit = off
as $ai_gate$
#variable_conflict use_column
declare
    hours_from timestamptz;
    hours_to timestamptz;
    days_from timestamptz;
    days_to timestamptz;
begin
{{ select_latency_window_bounds(schema, hourly, daily) }}
    return query
    with
    raw_rows as (
        {{ raw_usage_rows(raw, 'since', 'hours_from', schema) }}
        union all
        {{ raw_usage_rows(raw, 'hours_to', 'until', schema) }}
    ),
    raw_buckets as (
        select
            r.selected_provider,
            {{ latency_histogram_bucket('r.total_tokens', token_error) }} as bucket,
            count(*) as n
        from raw_rows as r
        where r.total_tokens is not null
        group by 1, 2
    ),
    raw_parts as (
        select
            r.selected_provider,
            {{ usage_sums('r', schema) }},
            (
                select array_agg(b.bucket order by b.bucket) from raw_buckets as b
                where b.selected_provider = r.selected_provider
            ) as token_buckets,
            (
                select array_agg(b.n order by b.bucket) from raw_buckets as b
                where b.selected_provider = r.selected_provider
            ) as token_bucket_counts
        from raw_rows as r
        group by r.selected_provider
    ),
    parts as (
        select
            d.selected_provider, d.generations, d.token_generations, d.input_tokens,
            d.output_tokens, d.cost_generations, d.priced_generations, d.cost_usd,
            d.fallback_generations, d.fallback_cost_generations, d.fallback_cost_usd,
            d.token_buckets, d.token_bucket_counts
        from {{ daily }} as d
        where d.day >= days_from and d.day < days_to
        union all
        select
            h.selected_provider, h.generations, h.token_generations, h.input_tokens,
            h.output_tokens, h.cost_generations, h.priced_generations, h.cost_usd,
            h.fallback_generations, h.fallback_cost_generations, h.fallback_cost_usd,
            h.token_buckets, h.token_bucket_counts
        from {{ hourly }} as h
        where
            (h.hour_start >= hours_from and h.hour_start < days_from)
            or (h.hour_start >= days_to and h.hour_start < hours_to)
        union all
        select
            r.selected_provider, r.generations, r.token_generations, r.input_tokens,
            r.output_tokens, r.cost_generations, r.priced_generations, r.cost_usd,
            r.fallback_generations, r.fallback_cost_generations, r.fallback_cost_usd,
            r.token_buckets, r.token_bucket_counts
        from raw_parts as r
    ),
    sums as (
        select
            p.selected_provider,
            sum(p.generations)::bigint as generations,
            sum(p.token_generations)::bigint as token_generations,
            sum(p.input_tokens)::bigint as input_tokens,
            sum(p.output_tokens)::bigint as output_tokens,
            sum(p.cost_generations)::bigint as cost_generations,
            sum(p.priced_generations)::bigint as priced_generations,
            sum(p.cost_usd) as cost_usd,
            sum(p.fallback_generations)::bigint as fallback_generations,
            sum(p.fallback_cost_generations)::bigint as fallback_cost_generations,
            sum(p.fallback_cost_usd) as fallback_cost_usd
        from parts as p
        group by p.selected_provider
    ),
    buckets as (
        select p.selected_provider, t.bucket, sum(t.n) as n
        from parts as p
        cross join lateral unnest(p.token_buckets, p.token_bucket_counts) as t (bucket, n)
        group by p.selected_provider, t.bucket
    ),
    ranked as (
        select
            b.selected_provider,
            b.bucket,
            sum(b.n) over (partition by b.selected_provider order by b.bucket) as up_to,
            sum(b.n) over (partition by b.selected_provider) as total
        from buckets as b
    ),
    -- the nearest rank: the bucket holding the ceil(p * total)-th generation
    percentile_buckets as (
        select
            r.selected_provider,
            min(r.bucket) filter (where r.up_to >= ceil(0.5 * r.total)) as p50,
            min(r.bucket) filter (where r.up_to >= ceil(0.95 * r.total)) as p95
        from ranked as r
        group by r.selected_provider
    )
    select
        s.selected_provider,
        s.generations,
        s.token_generations,
        s.input_tokens::double precision / nullif(s.token_generations, 0),
        s.output_tokens::double precision / nullif(s.token_generations, 0),
        case when q.p50 is not null then {{ latency_histogram_value('q.p50', token_error) }} end,
        case when q.p95 is not null then {{ latency_histogram_value('q.p95', token_error) }} end,
        s.cost_generations,
        s.priced_generations,
        s.generations - s.cost_generations,
        case when s.cost_generations > 0 then s.cost_usd end,
        s.cost_usd / nullif(s.cost_generations, 0),
        s.fallback_generations,
        case when s.fallback_cost_generations > 0 then s.fallback_cost_usd end,
        s.fallback_cost_usd / nullif(s.fallback_cost_generations, 0)
    from sums as s
    left join percentile_buckets as q
        on s.selected_provider = q.selected_provider
    order by s.selected_provider;
end
$ai_gate$;

revoke all on function {{ schema }}.ai_usage_by_provider(timestamptz, timestamptz) from public;
{{ revoke_api_role_privileges(schema ~ '.ai_usage_by_provider(timestamptz, timestamptz)', 'function') }}
{% endmacro %}
