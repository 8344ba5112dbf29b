{#-
    The cost-per-pass metrics of an eval run (the cost of its attempts over how many
    passed): the `kind: cost_per_pass` entries of the var eval_metrics.
-#}
{% macro eval_cost_per_pass_metrics() %}
    {%- set metrics = [] %}
    {%- for metric in var('eval_metrics') if metric['kind'] == 'cost_per_pass' %}
        {%- do metrics.append(metric['name']) %}
    {%- endfor %}
    {{ return(metrics) }}
{% endmacro %}
