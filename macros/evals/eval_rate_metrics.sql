{#-
    The rate metrics of an eval run and the sample field each is computed from, in
    report order: the `kind: rate` entries of the var eval_metrics (dbt_project.yml).
    summary_v1_only: only the metrics that are columns of ai_eval_run_summary_v1 (its
    column list is published; later metrics are rows of v2).
-#}
{% macro eval_rate_metrics(summary_v1_only=false) %}
    {%- set rates = [] %}
    {%- for metric in var('eval_metrics') if metric['kind'] == 'rate' %}
        {%- if not summary_v1_only or metric.get('summary_v1') %}
            {%- do rates.append((metric['name'], metric['field'])) %}
        {%- endif %}
    {%- endfor %}
    {{ return(rates) }}
{% endmacro %}
