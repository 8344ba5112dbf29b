{#-
    SQL that is true when an eval sample (an attempt of its case) passed: no error
    (metadata.error, an imported tool's errored attempt) and every check it carries true.
    The checks are the rate fields where true is good (var eval_metrics, direction not
    lower); a field the sample does not carry is no check of it. As
    ai_gate.evals.flakiness does.
-#}
{% macro eval_attempt_passes(relation_alias) %}
    ({{ relation_alias }}.metadata ->> 'error') is null
    {%- for metric in var('eval_metrics') %}
        {%- if metric['kind'] == 'rate' and metric.get('direction', 'higher') != 'lower' %}
            and coalesce({{ relation_alias }}.{{ metric['field'] }}, true)
        {%- endif %}
    {%- endfor %}
{% endmacro %}
