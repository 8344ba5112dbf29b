{#-
    The UTC hour a timestamptz falls in: the same value as
    date_trunc('hour', ts, 'UTC'), without the time-zone conversion it does per row
    (about a quarter of a millisecond per thousand rows, paid on every raw row a
    rollup refresh reads). date_bin counts whole hours from a UTC hour.
-#}
{% macro latency_hour_start(timestamp_expression) -%}
date_bin('1 hour', {{ timestamp_expression }}, '2000-01-01 00:00:00+00'::timestamptz)
{%- endmacro %}
