{#- (name, key columns, covered columns). latency_ms rides along in the provider index
    so latency queries over a window read the index alone (index-only scans). -#}
{% macro ai_training_examples_telemetry_indexes() %}
    {{ return([
        ('ai_training_examples_selected_provider_created_at_idx', 'selected_provider, created_at desc', 'latency_ms'),
        ('ai_training_examples_request_id_idx', 'request_id', none),
        ('ai_training_examples_route_strategy_created_at_idx', 'route_strategy, created_at desc', none),
    ]) }}
{% endmacro %}
