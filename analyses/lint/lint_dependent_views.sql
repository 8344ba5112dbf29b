{#- What the view materialization and the seed reset run to keep the views that read a
    relation they replace (ADR 0006), rendered for sqlfluff. -#}
{{ dependent_views_query(ref("ai_eval_run_summary", v=2)) | trim }};
{{ view_column_signature_query(ref("ai_eval_run_summary", v=2)) | trim }};
{{ recreate_dependent_views(
    '[]', 'public.ai_eval_run_summary_v2', 'ai_eval_run_summary',
    ['public.ai_eval_gate_results'], ['public.ai_eval_gate_results']
) }}
