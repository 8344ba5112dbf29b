{#-
    Whether `new` has `old`'s columns (names, types, collations, in order), perhaps
    with more after them: then CREATE OR REPLACE VIEW replaces `old` in place and the
    views that read it keep reading it. Run time only.
-#}
{% macro view_columns_extend(old, new) %}
    {%- set old_columns = fromjson(run_query(view_column_signature_query(old)).columns[0].values()[0]) -%}
    {%- set new_columns = fromjson(run_query(view_column_signature_query(new)).columns[0].values()[0]) -%}
    {{ return(old_columns | length > 0 and new_columns[:old_columns | length] == old_columns) }}
{% endmacro %}
