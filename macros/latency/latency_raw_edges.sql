{#-
    Inside the latency functions (after ai_latency_window_bounds): the raw rows of the
    window's partial hours and of everything after the hourly rollup, [since,
    hours_from) and [hours_to, until), as (selected_provider, created_at, latency_ms).
-#}
{% macro latency_raw_edges(raw) %}
            {{ raw_latency_rows(raw, 'since', 'hours_from') }}
            union all
            {{ raw_latency_rows(raw, 'hours_to', 'until') }}
{%- endmacro %}
