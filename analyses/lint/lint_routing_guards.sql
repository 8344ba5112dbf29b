{#- The post-hooks of ai_provider_config_changes, rendered for sqlfluff. -#}
{{ append_only_guard('Record a new change instead.', ref('ai_provider_config_changes')) }}
{{ routing_invariants_guard() }}
