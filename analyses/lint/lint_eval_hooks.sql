{#- The hooks of ai_eval_runs and ai_eval_samples, rendered for sqlfluff. -#}
{{ eval_runs_status_values() }}
{{ eval_runs_guard() }}
{{ eval_samples_from_partitions(ref('ai_eval_runs')) }}
{{ eval_samples_run_is_open(ref('ai_eval_runs')) }}
{{ drop_retired_eval_samples_partitions() }}
