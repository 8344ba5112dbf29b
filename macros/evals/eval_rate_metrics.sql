{#-
    The rate metrics of an eval run and the sample field each is computed from, in
    report order: the `kind: rate` entries of the var eval_metrics (dbt_project.yml).
-#}
{% macro eval_rate_metrics() %}
    {%- set rates = [] %}
    {%- for metric in var('eval_metrics') if metric['kind'] == 'rate' %}
        {%- do rates.append((metric['name'], metric['field'])) %}
    {%- endfor %}
    {{ return(rates) }}
{% endmacro %}
