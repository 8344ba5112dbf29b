{#-
    Post-hook making a log table append-only: a statement-level trigger rejects
    update, delete and truncate, whoever runs them. Corrections are new rows; `hint`
    says how to make one for this table.
-#}
{% macro append_only_guard(hint, relation=this) %}
{#- One function per table: models build in parallel, and concurrent CREATE OR
    REPLACE of one shared function collide in pg_proc. -#}
{%- set function_name = relation.schema ~ '.' ~ relation.identifier ~ '_reject_mutation' -%}
create or replace function {{ function_name }}()
returns trigger
language plpgsql
set search_path = ''
as $ai_gate$
begin
    raise exception '%.% is append-only: % is not allowed', tg_table_schema, tg_table_name, tg_op
        using errcode = 'restrict_violation',
        hint = {{ dbt.string_literal(hint) }};
end
$ai_gate$;

revoke all on function {{ function_name }}() from public;

create or replace trigger {{ relation.identifier }}_append_only
before update or delete or truncate on {{ relation }}
for each statement execute function {{ function_name }}();
{% endmacro %}
