{#- The post-hooks of ai_provider_prices (the price functions) and ai_usage_daily
    (ai_usage_by_provider), rendered for sqlfluff. -#}
{{ create_cost_functions() }}

{{ create_usage_functions() }}
