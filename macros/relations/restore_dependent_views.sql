{#-
    After `replaced` was dropped and created anew in this transaction: runs
    recreate_dependent_views over the views saved_dependent_views saved, the models
    this invocation builds next excepted when they cannot be recreated, and tells
    dbt's relation cache which are back (a model built later must find its view).
    Run time only.
-#}
{% macro restore_dependent_views(saved_views, replaced) %}
    {%- if saved_views == '[]' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set rebuilt_later, project_views = [], [] -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' -%}
        {%- do project_views.append(node.schema ~ '.' ~ node.alias) -%}
        {%- if node.unique_id in selected_resources and node.unique_id != model.unique_id -%}
            {%- do rebuilt_later.append(node.schema ~ '.' ~ node.alias) -%}
        {%- endif -%}
    {%- endfor -%}
    {% call statement('recreate_dependent_views') -%}
        {{ recreate_dependent_views(
            saved_views, replaced.include(database=false) | string, model.name, rebuilt_later, project_views
        ) }}
    {%- endcall %}
    {%- for view in fromjson(saved_views) -%}
        {%- set found = run_query(
            "select to_regclass('" ~ (adapter.quote(view['schema_name']) ~ '.' ~ adapter.quote(view['view_name'])) | replace("'", "''") ~ "') is not null"
        ) -%}
        {%- if found.columns[0].values()[0] -%}
            {%- do adapter.cache_added(api.Relation.create(
                database=replaced.database, schema=view['schema_name'], identifier=view['view_name'], type='view'
            )) -%}
        {%- endif -%}
    {%- endfor -%}
{% endmacro %}
