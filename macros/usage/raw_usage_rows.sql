{#-
    The product's generations with created_at in [start, end), each with its usage and
    its cost as the price functions know it (recorded, else priced, else null), read
    as one index range per provider of (selected_provider, created_at desc) as
    raw_latency_rows reads them (the providers from a loose index scan), then the
    rows' other columns from the table.
-#}
{% macro raw_usage_rows(relation, start, end, schema) %}
    select
        scanned.selected_provider,
        scanned.created_at,
        scanned.fallback_used,
        scanned.input_tokens,
        scanned.output_tokens,
        scanned.recorded_cost_usd,
        scanned.input_tokens + scanned.output_tokens as total_tokens,
        {{ schema }}.ai_gate_cost_usd(
            scanned.recorded_cost_usd,
            scanned.selected_provider,
            scanned.model,
            scanned.created_at,
            scanned.input_tokens,
            scanned.output_tokens
        ) as cost_usd
    from (
        {{ telemetry_providers(relation) }}
    ) as provider_list
    cross join lateral (
        select
            raw_rows.selected_provider,
            raw_rows.created_at,
            raw_rows.fallback_used,
            raw_rows.input_tokens,
            raw_rows.output_tokens,
            raw_rows.recorded_cost_usd,
            raw_rows.model
        from {{ relation }} as raw_rows
        where
            raw_rows.selected_provider = provider_list.provider
            and raw_rows.created_at >= ({{ start }})
            and raw_rows.created_at < ({{ end }})
        offset 0  -- keeps one index range per provider (not flattened into a join)
    ) as scanned
{%- endmacro %}
