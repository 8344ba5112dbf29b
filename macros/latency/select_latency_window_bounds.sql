{#-
    One PL/pgSQL statement of the latency functions: splits their window [since,
    until) with ai_latency_window_bounds (create_latency_window_bounds), given how far
    the `hourly` and `daily` rollups reach, into the variables hours_from, hours_to,
    days_from and days_to, which the function declares.
-#}
{% macro select_latency_window_bounds(schema, hourly, daily) %}
    select bounds.hours_from, bounds.hours_to, bounds.days_from, bounds.days_to
    into hours_from, hours_to, days_from, days_to
    from {{ schema }}.ai_latency_window_bounds(
        since,
        until,
        (select coalesce(max(h.rolled_up_until), '-infinity') from {{ hourly }} as h),
        (select coalesce(max(d.rolled_up_until), '-infinity') from {{ daily }} as d)
    ) as bounds;
{%- endmacro %}
