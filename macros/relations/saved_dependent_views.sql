{#-
    Runs dependent_views_query: the views that read `relation`, saved (a JSON array,
    '[]' for none) before a replacement drops them. Run time only.
-#}
{% macro saved_dependent_views(relation) %}
    {%- if relation is none -%}
        {{ return('[]') }}
    {%- endif -%}
    {%- set result = run_query(dependent_views_query(relation)) -%}
    {{ return(result.columns[0].values()[0] if result and result.rows else '[]') }}
{% endmacro %}
