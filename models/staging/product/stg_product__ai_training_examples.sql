-- The one reader of the product's ai_training_examples: its routing telemetry
-- columns, unchanged. A plain projection, so PostgreSQL inlines it into every query
-- and the latency rollups keep their index-only scans of the product's indexes.

with

source_rows as (

    select * from {{ source('product', 'ai_training_examples') }}

),

telemetry as (

    select
        id,
        created_at,
        request_id,
        requested_provider,
        selected_provider,
        route_strategy,
        fallback_provider,
        fallback_used,
        latency_ms,
        prompt_template_version
    from source_rows

)

select * from telemetry
