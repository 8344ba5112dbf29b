{#- The replace_groups incremental strategy's statement, rendered for sqlfluff. -#}
{{ get_incremental_replace_groups_sql({
    'target_relation': ref('ai_latency_hourly_histogram'),
    'temp_relation': ref('ai_latency_hourly_histogram'),
    'unique_key': ['hour_start', 'selected_provider'],
    'dest_columns': [{'name': 'hour_start'}, {'name': 'selected_provider'}],
}) }}
