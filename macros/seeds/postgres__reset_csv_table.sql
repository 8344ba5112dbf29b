{#-
    dbt's seed reset on PostgreSQL, changed so that a full refresh of a seed never
    drops the views that read it (ADR 0006): dbt drops the seed's table with CASCADE
    (ai_provider_configs, which the product reads, and ai_eval_gate_results went with
    their seeds); here the views are saved first and created again in the seed's own
    transaction, after its new table. Found through the `dispatch` search order in
    dbt_project.yml (this project before dbt). Run time only.
-#}
{% macro postgres__reset_csv_table(model, full_refresh, old_relation, agate_table) %}
    {%- if not full_refresh -%}
        {{ return(default__reset_csv_table(model, full_refresh, old_relation, agate_table)) }}
    {%- endif -%}
    {%- set saved_views = saved_dependent_views(old_relation) -%}
    {{ adapter.drop_relation(old_relation) }}
    {%- set sql = create_csv_table(model, agate_table) -%}
    {{ restore_dependent_views(saved_views, old_relation) }}
    {{ return(sql) }}
{% endmacro %}
