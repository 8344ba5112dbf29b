{#- The telemetry migration as `ai-gate migrate --print` prints it, for sqlfluff. -#}
{{ ai_training_examples_migration_script() }}
