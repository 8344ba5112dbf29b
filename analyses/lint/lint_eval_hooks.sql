{#- The hooks of ai_eval_runs, ai_eval_samples and ai_eval_run_judgement (the replay
    function), rendered for sqlfluff. -#}
{{ eval_runs_status_values() }}
{{ eval_runs_guard() }}
{{ eval_samples_from_partitions(ref('ai_eval_runs')) }}
{{ eval_samples_run_is_open(ref('ai_eval_runs')) }}
{{ drop_retired_eval_samples_partitions() }}
{{ create_eval_replay_judgement() }}
