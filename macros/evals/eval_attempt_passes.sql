{#-
    SQL that is true when an eval sample (an attempt of its case) passed: no error
    (metadata.error, an imported tool's errored attempt) and every check it carries true.
    The checks are the fields of the var eval_metrics marked `check` (checks of the
    output, not a user's behaviour nor a fallback); a field the sample does not carry is
    no check of it. As ai_gate.evals.flakiness does.
-#}
{% macro eval_attempt_passes(relation_alias) %}
    ({{ relation_alias }}.metadata ->> 'error') is null
    {%- for metric in var('eval_metrics') %}
        {%- if metric.get('check') %}
            and coalesce({{ relation_alias }}.{{ metric['field'] }}, true)
        {%- endif %}
    {%- endfor %}
{% endmacro %}
