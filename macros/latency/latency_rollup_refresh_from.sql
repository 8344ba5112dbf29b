{#-
    Where an incremental refresh of a latency rollup starts: the newest period it
    already holds minus `latency_rollup_lookback_hours` (so late rows within that
    window are recomputed); everything on a first or full build.
-#}
{% macro latency_rollup_refresh_from(period_column) %}
    {%- if is_incremental() -%}
        coalesce(
            (select max({{ period_column }}) from {{ this }})
            - interval '{{ var("latency_rollup_lookback_hours") }} hours',
            '-infinity'::timestamptz
        )
    {%- else -%}
        '-infinity'::timestamptz
    {%- endif -%}
{% endmacro %}
