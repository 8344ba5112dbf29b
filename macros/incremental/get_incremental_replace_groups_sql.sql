{#-
    Incremental strategy `replace_groups`: like delete+insert on `unique_key`, but the
    delete runs one statement per replaced group, each an index range on the leading
    key columns. dbt's delete+insert joins the whole target against the new rows,
    which PostgreSQL answers with a sequential scan of a million-row rollup to replace
    a few thousand rows. The groups come from the new rows (the temporary relation).
    Deletes and insert are one statement, so a reader (the profile autocommits) never
    sees a group deleted and not yet inserted again.
-#}
{% macro get_incremental_replace_groups_sql(arg_dict) %}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set keys = arg_dict['unique_key'] -%}
    {%- if keys is string -%}{%- set keys = [keys] -%}{%- endif -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
do $replace_groups$
declare
    replaced record;
begin
    for replaced in select distinct {{ keys | join(', ') }} from {{ source }} loop
        delete from {{ target }} as dest
        where
            {%- for key in keys %}
            dest.{{ key }} = replaced.{{ key }}{{ ' and' if not loop.last }}
            {%- endfor %};
    end loop;
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ source }};
end
$replace_groups$
{% endmacro %}
