{#-
    The telemetry columns the migration adds: (name, type), all nullable. Phase 2's
    routing columns, then usage (docs/cost.md): the model that answered, its tokens
    and what the call cost in US dollars (null: not reported; never 0 for unknown).
-#}
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
        ('model', 'text'),
        ('input_tokens', 'integer'),
        ('output_tokens', 'integer'),
        ('cost_usd', 'double precision'),
    ]) }}
{% endmacro %}
