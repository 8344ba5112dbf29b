{#-
    The final select of the latency functions: from a relation with one row per
    (grouping_key, p, side) and its `value` (see latency_rank_buckets), one row per
    group with requests and p50/p95/p99, interpolated as percentile_cont does;
    providers first, the overall row (selected_provider null) last.
-#}
{% macro latency_percentile_columns(relation) %}
    select
        (array_agg(grp))[1] as selected_provider,
        max(total)::bigint as requests,
        {%- for p, name in [(0.5, 'p50_ms'), (0.95, 'p95_ms'), (0.99, 'p99_ms')] %}
        max(value) filter (where p = {{ p }} and side = 0)
        + (max(h) filter (where p = {{ p }}) - floor(max(h) filter (where p = {{ p }})))
        * (
            max(value) filter (where p = {{ p }} and side = 1)
            - max(value) filter (where p = {{ p }} and side = 0)
        ) as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ relation }}
    group by grouping_key
    order by grouping_key = 'all', selected_provider
{%- endmacro %}
