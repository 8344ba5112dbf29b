{#-
    The distinct selected providers of the raw telemetry table `relation`, one row
    each (column `provider`), found by a loose index scan of (selected_provider,
    created_at desc): one index probe per provider, never a read of the table. The raw
    readers (raw_latency_rows, raw_usage_rows) take each provider's rows as an index
    range from here: a plain created_at range across providers cannot use that index
    before PostgreSQL 18's skip scan, and would read the whole table.
-#}
{% macro telemetry_providers(relation) -%}
with recursive providers (provider) as (
            (
                select raw_first.selected_provider
                from {{ relation }} as raw_first
                where raw_first.selected_provider is not null
                order by raw_first.selected_provider
                limit 1
            )
            union all
            select (
                select raw_next.selected_provider
                from {{ relation }} as raw_next
                where raw_next.selected_provider > providers.provider
                order by raw_next.selected_provider
                limit 1
            )
            from providers
            where providers.provider is not null
        )

        select provider from providers where provider is not null
{%- endmacro %}
