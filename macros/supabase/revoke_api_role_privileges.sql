{#-
    Revokes every privilege of Supabase's API roles (var `supabase_api_roles`) on a
    table or view. Roles that do not exist (plain PostgreSQL) are skipped, so the
    statement works everywhere.
-#}
{% macro revoke_api_role_privileges(relation, object_type='table') %}
do $ai_gate$
declare
    api_role text;
begin
    foreach api_role in array array[{%- for role in var('supabase_api_roles', ['anon', 'authenticated']) -%}'{{ role }}'{{ ', ' if not loop.last }}{%- endfor -%}]
    loop
        if exists (select from pg_catalog.pg_roles where rolname = api_role) then
            execute format('revoke all on {{ object_type }} %s from %I', {{ dbt.string_literal(relation | string) }}, api_role);
        end if;
    end loop;
end
$ai_gate$;
{% endmacro %}
