{#-
    The baseline-ratio metrics of an eval run (a mean metric of the run over its
    baseline run's, with --baseline): the `kind: baseline_ratio` entries of the var
    eval_metrics, each with the mean metric it divides and that metric's field.
-#}
{% macro eval_baseline_ratio_metrics() %}
    {%- set ratios = [] %}
    {%- for metric in var('eval_metrics') if metric['kind'] == 'baseline_ratio' %}
        {%- for mean in var('eval_metrics') if mean['name'] == metric['of'] %}
            {%- do ratios.append((metric['name'], mean['name'], mean['field'])) %}
        {%- endfor %}
    {%- endfor %}
    {{ return(ratios) }}
{% endmacro %}
