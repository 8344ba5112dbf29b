{{ test_row_count_per_group_between(
    ref('ai_provider_configs'), ['environment'], 'is_default', 1, 1
) }}
