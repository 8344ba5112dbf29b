-- Routing telemetry for canary analysis: the product's generations and the
-- synthetic ones from `ai-gate simulate`, each flagged, in one shape.

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
        cast(null as text) as environment
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
        environment
    from synthetic_generations

),

unioned as (

    select * from product_telemetry
    union all
    select * from synthetic_telemetry

)

select * from unioned
