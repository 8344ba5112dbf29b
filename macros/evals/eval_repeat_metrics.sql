{#-
    The metrics computed from the cases an eval run tried more than once (the `kind:
    repeats` entries of the var eval_metrics): case_pass_k.
-#}
{% macro eval_repeat_metrics() %}
    {%- set repeats = [] %}
    {%- for metric in var('eval_metrics') if metric['kind'] == 'repeats' %}
        {%- do repeats.append(metric['name']) %}
    {%- endfor %}
    {{ return(repeats) }}
{% endmacro %}
