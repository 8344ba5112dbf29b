{{
    config(
        materialized='incremental',
        full_refresh=false,
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['selected_provider', 'created_at']},
        ],
    )
}}

-- Synthetic routing telemetry written by `ai-gate simulate` for dry runs, demos and
-- benchmarks. It lives apart from the product's ai_training_examples, so synthetic
-- rows can never be mistaken for production data; ai_routing_telemetry unions the
-- two with an `is_synthetic` flag.

select
    cast(null as bigint) as synthetic_id,
    cast(null as text) as scenario,
    cast(null as integer) as seed,
    cast(null as timestamptz) as created_at,
    cast(null as text) as request_id,
    cast(null as text) as requested_provider,
    cast(null as text) as selected_provider,
    cast(null as text) as route_strategy,
    cast(null as text) as fallback_provider,
    cast(null as boolean) as fallback_used,
    cast(null as integer) as latency_ms,
    cast(null as text) as prompt_template_version,
    cast(null as text) as environment,
    cast(null as text) as model,
    cast(null as bigint) as input_tokens,
    cast(null as bigint) as output_tokens,
    cast(null as double precision) as cost_usd
where false
