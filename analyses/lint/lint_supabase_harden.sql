{#- The post-hooks of every model and seed, both branches, rendered for sqlfluff. -#}
{{ supabase_harden(ref('ai_eval_runs'), 'incremental') }}
{{ supabase_harden(ref('ai_provider_configs'), 'view') }}
{{ ensure_primary_key(['provider', 'environment'], ref('ai_provider_config_defaults')) }}
