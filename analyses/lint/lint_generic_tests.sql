{#- The generic tests' queries, rendered for sqlfluff (dbt compiles the tests it
    runs from YAML, which sqlfluff does not read). -#}
{{ test_expression_is_true(ref('ai_eval_runs'), 'finished_at >= started_at') }}
