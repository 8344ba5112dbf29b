{#-
    The mean metrics of an eval run (the mean of a per-sample amount: tokens, cost)
    and the field each is computed from: the `kind: mean` entries of the var
    eval_metrics.
-#}
{% macro eval_mean_metrics() %}
    {%- set means = [] %}
    {%- for metric in var('eval_metrics') if metric['kind'] == 'mean' %}
        {%- do means.append((metric['name'], metric['field'])) %}
    {%- endfor %}
    {{ return(means) }}
{% endmacro %}
