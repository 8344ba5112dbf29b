{#- The Phase 2 telemetry columns the migration adds: (name, type), all nullable. -#}
{% macro ai_training_examples_telemetry_columns() %}
    {{ return([
        ('request_id', 'text'),
        ('requested_provider', 'text'),
        ('selected_provider', 'text'),
        ('route_strategy', 'text'),
        ('fallback_provider', 'text'),
        ('fallback_used', 'boolean'),
        ('latency_ms', 'integer'),
        ('prompt_template_version', 'text'),
    ]) }}
{% endmacro %}
