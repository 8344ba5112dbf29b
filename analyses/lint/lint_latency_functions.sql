{#- The post-hook of ai_latency_cumulative_histogram, rendered for sqlfluff. -#}
{{ create_latency_functions() }}
