{#-
    A value of a rollup's previous refresh, as a timestamptz literal: the newest
    `column` (rolled_up_until: the previous cutoff; refreshed_at: when it ran) in the
    model's own table, '-infinity' on a first or full build. Read when the model runs
    (not as a subquery in its SQL) so the planner sees the value and picks index
    ranges for the few rows after it.
-#}
{% macro latency_rollup_previous(column) %}
    {%- set previous = none -%}
    {%- if execute and is_incremental()
        and column in adapter.get_columns_in_relation(this) | map(attribute='name') -%}
        {#- (a table built before the column existed: treated as a first build) -#}
        {%- set result = run_query(
            "select max(" ~ column ~ ")::text from " ~ this
        ) -%}
        {%- set previous = result.columns[0].values()[0] -%}
    {%- endif -%}
    {%- if previous is none -%}
        '-infinity'::timestamptz
    {%- else -%}
        '{{ previous }}'::timestamptz
    {%- endif -%}
{%- endmacro %}
