{#-
    The six rate metrics of an eval run and the sample field each is computed from,
    in report order (p95_latency_ms is the seventh metric, not a rate).
-#}
{% macro eval_rate_metrics() %}
    {{ return([
        ('schema_valid_rate', 'schema_valid'),
        ('patch_apply_success', 'patch_apply_success'),
        ('edit_after_generate_rate', 'edit_after_generate'),
        ('publish_conversion_proxy', 'publish_conversion'),
        ('safety_html_tailwind_compliance', 'safety_html_tailwind_compliant'),
        ('fallback_rate', 'fallback_used'),
    ]) }}
{% endmacro %}
