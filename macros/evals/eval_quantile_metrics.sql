{#-
    The quantile metrics of an eval run (the p95 of a sample field) and the field each
    is computed from: the `kind: quantile` entries of the var eval_metrics.
-#}
{% macro eval_quantile_metrics() %}
    {%- set quantiles = [] %}
    {%- for metric in var('eval_metrics') if metric['kind'] == 'quantile' %}
        {%- do quantiles.append((metric['name'], metric['field'])) %}
    {%- endfor %}
    {{ return(quantiles) }}
{% endmacro %}
