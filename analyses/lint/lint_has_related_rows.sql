{{ test_has_related_rows(ref('ai_eval_runs'), 'run_id', ref('ai_eval_samples'), 'run_id') }}
