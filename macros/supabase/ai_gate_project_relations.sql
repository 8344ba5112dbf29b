{#-
    The relations this project creates (models and seeds, not sources) as a SQL query
    of (schema_name, relation_name), for the catalog tests. At parse time the graph is
    empty, so it returns no rows then.
-#}
{% macro ai_gate_project_relations() %}
    {%- set relations = [] -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values()
            if node.resource_type in ('model', 'seed')
            and node.package_name == project_name
            and node.config.materialized != 'ephemeral' -%}
            {%- do relations.append((node.schema, node.alias)) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if relations -%}
        select
            project_nodes.schema_name,
            project_nodes.relation_name
        from (
            values
            {%- for schema_name, relation_name in relations %}
            ({{ dbt.string_literal(schema_name) }}, {{ dbt.string_literal(relation_name) }}){{ ',' if not loop.last }}
            {%- endfor %}
        ) as project_nodes (schema_name, relation_name)
    {%- else -%}
        select
            cast(null as text) as schema_name,
            cast(null as text) as relation_name
        where false
    {%- endif -%}
{% endmacro %}
