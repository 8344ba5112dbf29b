-- Routing telemetry for canary analysis: the product's generations and the
-- synthetic ones from `ai-gate simulate`, each flagged, in one shape, each with its
-- cost as the price functions know it (recorded, else its tokens priced at the price
-- in force at its time, else unknown: macros/usage/create_cost_functions.sql, the
-- post-hook of the prices seed, which must run first:
-- depends_on: {{ ref('ai_provider_prices') }}

with

product_generations as (

    select * from {{ ref('stg_product__ai_training_examples') }}

),

synthetic_generations as (

    select * from {{ ref('ai_synthetic_generations') }}

),

product_telemetry as (

    select
        generation_id,
        created_at,
        request_id,
        requested_provider,
        selected_provider,
        route_strategy,
        fallback_provider,
        fallback_used,
        latency_ms,
        prompt_template_version,
        false as is_synthetic,
        -- a product database serves one environment: its rows have none of their own
        cast(null as text) as environment,
        model,
        input_tokens,
        output_tokens,
        recorded_cost_usd
    from product_generations

),

synthetic_telemetry as (

    select
        'synthetic-' || synthetic_id as generation_id,
        created_at,
        request_id,
        requested_provider,
        selected_provider,
        route_strategy,
        fallback_provider,
        fallback_used,
        latency_ms,
        prompt_template_version,
        true as is_synthetic,
        environment,
        model,
        input_tokens,
        output_tokens,
        cost_usd as recorded_cost_usd
    from synthetic_generations

),

unioned as (

    select * from product_telemetry
    union all
    select * from synthetic_telemetry

),

costed as (

    select
        generation_id,
        created_at,
        request_id,
        requested_provider,
        selected_provider,
        route_strategy,
        fallback_provider,
        fallback_used,
        latency_ms,
        prompt_template_version,
        is_synthetic,
        environment,
        model,
        input_tokens,
        output_tokens,
        {{ this.schema }}.ai_gate_cost_usd(
            recorded_cost_usd, selected_provider, model, created_at, input_tokens, output_tokens
        ) as cost_usd,
        {{ this.schema }}.ai_gate_cost_source(
            recorded_cost_usd,
            {{ this.schema }}.ai_gate_cost_usd(
                recorded_cost_usd, selected_provider, model, created_at, input_tokens, output_tokens
            )
        ) as cost_source
    from unioned

)

select * from costed
