{#-
    Inside the latency functions (after ai_latency_window_bounds): the hourly rollup's
    bucket counts for the whole hours around the whole days, [hours_from, days_from)
    and [days_to, hours_to), as (selected_provider, bucket, requests).
-#}
{% macro latency_edge_hour_counts(hourly) %}
        select
            edge_hours.selected_provider,
            edge_hours.bucket,
            edge_hours.requests
        from {{ hourly }} as edge_hours
        where
            (edge_hours.hour_start >= hours_from and edge_hours.hour_start < days_from)
            or (edge_hours.hour_start >= days_to and edge_hours.hour_start < hours_to)
{%- endmacro %}
