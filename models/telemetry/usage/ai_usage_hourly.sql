{{
    config(
        incremental_strategy='replace_groups',
        unique_key=['hour_start', 'selected_provider'],
        indexes=[{'columns': ['rolled_up_until']}, {'columns': ['refreshed_at']}],
    )
}}

{%- set previous_until = latency_rollup_previous('rolled_up_until') %}
{%- set lookback_hours = var('latency_rollup_lookback_hours') %}
{%- set recompute_from = "(" ~ previous_until ~ " - interval '" ~ lookback_hours ~ " hours')" %}
{%- set cutoff = var('latency_rollup_cutoff') %}
{%- set cutoff_sql = "now()" if cutoff is none else "'" ~ cutoff ~ "'::timestamptz" %}
{%- set rolled_up_until = "date_trunc('hour', " ~ cutoff_sql ~ ", 'UTC')" %}

-- Usage per provider per complete UTC hour of the product's generations
-- (docs/cost.md): how many, with tokens and their sums, a histogram of their total
-- tokens (the DDSketch mapping of the latency rollups, var
-- usage_token_histogram_relative_error: sparse, the buckets and their counts as two
-- parallel arrays), their costs (recorded or priced: the price functions) and the
-- fallbacks' share of them. A refresh recomputes the hours from
-- `latency_rollup_lookback_hours` before its previous cutoff (late rows) to the new
-- cutoff (`rolled_up_until`); ai_usage_by_provider reads the raw rows after it.
-- The price functions it calls are the prices seed's post-hook:
-- depends_on: {{ ref('ai_provider_prices') }}

with

bounds as (

    select {{ rolled_up_until }} as rolled_up_until

),

generations as (

    {{ raw_usage_rows(
        ref('stg_product__ai_training_examples'),
        recompute_from,
        rolled_up_until,
        this.schema
    ) }}

),

hourly_sums as (

    select
        generations.selected_provider,
        {{ latency_hour_start('generations.created_at') }} as hour_start,
        {{ usage_sums('generations', this.schema) }}
    from generations
    group by generations.selected_provider, hour_start

),

token_buckets as (

    select
        generations.selected_provider,
        {{ latency_hour_start('generations.created_at') }} as hour_start,
        {{ latency_histogram_bucket(
            'generations.total_tokens', var('usage_token_histogram_relative_error')
        ) }} as bucket,
        count(*) as generations
    from generations
    where generations.total_tokens is not null
    group by generations.selected_provider, hour_start, bucket

),

token_histograms as (

    select
        selected_provider,
        hour_start,
        array_agg(bucket order by bucket) as token_buckets,
        array_agg(generations order by bucket) as token_bucket_counts
    from token_buckets
    group by selected_provider, hour_start

),

rolled_up as (

    select
        hourly_sums.hour_start,
        hourly_sums.selected_provider,
        hourly_sums.generations,
        hourly_sums.token_generations,
        hourly_sums.input_tokens,
        hourly_sums.output_tokens,
        hourly_sums.cost_generations,
        hourly_sums.priced_generations,
        hourly_sums.cost_usd,
        hourly_sums.fallback_generations,
        hourly_sums.fallback_cost_generations,
        hourly_sums.fallback_cost_usd,
        bounds.rolled_up_until,
        coalesce(token_histograms.token_buckets, '{}') as token_buckets,
        coalesce(token_histograms.token_bucket_counts, '{}') as token_bucket_counts,
        now() as refreshed_at
    from hourly_sums
    cross join bounds
    left join token_histograms
        on
            hourly_sums.selected_provider = token_histograms.selected_provider
            and hourly_sums.hour_start = token_histograms.hour_start

)

select * from rolled_up
