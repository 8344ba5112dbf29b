{#-
    dbt-postgres's view materialization, changed so that building a view never drops
    the views that read it (ADR 0006). dbt's own renames the old view away and drops it
    with CASCADE, which drops every view built on it: `dbt build --select` of one model
    dropped ai_eval_gate_results, and so did a build that failed after rebuilding a
    parent. Here, in one transaction:
      - when the new columns extend the old ones (the usual edit), CREATE OR REPLACE
        VIEW replaces it in place: the views that read it keep reading it;
      - otherwise it is swapped as dbt does, and the views that read it are created
        again from their saved definitions (restore_dependent_views); one that cannot be
        (it reads a column that is gone) fails the model, rolling everything back,
        unless this invocation builds it next.
-#}
{%- materialization view, adapter='postgres' -%}

    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set target_relation = this.incorporate(type='view') -%}
    {%- set intermediate_relation = make_intermediate_relation(target_relation) -%}
    {%- set preexisting_intermediate_relation = load_cached_relation(intermediate_relation) -%}
    {%- set backup_relation_type = 'view' if existing_relation is none else existing_relation.type -%}
    {%- set backup_relation = make_backup_relation(target_relation, backup_relation_type) -%}
    {%- set preexisting_backup_relation = load_cached_relation(backup_relation) -%}
    {%- set grant_config = config.get('grants') -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}

    {{ drop_relation_if_exists(preexisting_intermediate_relation) }}
    {{ drop_relation_if_exists(preexisting_backup_relation) }}

    -- `BEGIN` happens here:
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    -- the new query as a view of its own first: it must compile, and its columns say
    -- whether the old view can be replaced in place
    {% call statement('main') -%}
        {{ get_create_view_as_sql(intermediate_relation, sql) }}
    {%- endcall %}

    {%- if existing_relation is not none -%}
        {%- set existing_relation = load_cached_relation(existing_relation) -%}
    {%- endif -%}
    {%- if existing_relation is not none and existing_relation.is_view
        and view_columns_extend(existing_relation, intermediate_relation) -%}
        {{ adapter.drop_relation(intermediate_relation) }}
        {% call statement('replace_in_place') -%}
            {{ get_replace_view_sql(target_relation, sql) }}
        {%- endcall %}
    {%- else -%}
        {%- set saved_views = saved_dependent_views(existing_relation) -%}
        {%- if existing_relation is not none -%}
            {{ adapter.rename_relation(existing_relation, backup_relation) }}
        {%- endif -%}
        {{ adapter.rename_relation(intermediate_relation, target_relation) }}
        -- inside the transaction: the views the drop cascades to come back before it ends
        {{ drop_relation_if_exists(backup_relation) }}
        {{ restore_dependent_views(saved_views, target_relation) }}
    {%- endif -%}

    {%- set should_revoke = should_revoke(existing_relation, full_refresh_mode=True) -%}
    {%- do apply_grants(target_relation, grant_config, should_revoke=should_revoke) -%}

    {%- do persist_docs(target_relation, model) -%}

    {{ run_hooks(post_hooks, inside_transaction=True) }}

    {{ adapter.commit() }}

    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}

{%- endmaterialization -%}
