{#-
    Inside the latency functions (after latency_window_bounds): the hourly rollup's
    bucket counts for the whole hours around the whole days, [hours_from, days_from)
    and [days_to, hours_to), as (selected_provider, bucket, requests).
-#}
{% macro latency_edge_hour_counts(hourly) %}
        select h.selected_provider, h.bucket, h.requests
        from {{ hourly }} as h
        where
            (h.hour_start >= hours_from and h.hour_start < days_from)
            or (h.hour_start >= days_to and h.hour_start < hours_to)
{%- endmacro %}
