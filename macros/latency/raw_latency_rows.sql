{#-
    Rows of the raw telemetry table with a provider and a latency and created_at in
    [start, end), read as one index range per provider: the providers come from a
    loose index scan (telemetry_providers), then each provider's range is an
    index-only scan of (selected_provider, created_at desc) include (latency_ms).
-#}
{% macro raw_latency_rows(relation, start, end) %}
    select
        scanned.selected_provider,
        scanned.created_at,
        scanned.latency_ms
    from (
        {{ telemetry_providers(relation) }}
    ) as provider_list
    cross join lateral (
        select
            raw_rows.selected_provider,
            raw_rows.created_at,
            raw_rows.latency_ms
        from {{ relation }} as raw_rows
        where
            raw_rows.selected_provider = provider_list.provider
            and raw_rows.created_at >= ({{ start }})
            and raw_rows.created_at < ({{ end }})
            and raw_rows.latency_ms is not null
        offset 0  -- keeps one index range per provider (not flattened into a join)
    ) as scanned
{%- endmacro %}
