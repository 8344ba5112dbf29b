{#-
    Post-hook for every model and seed. Supabase exposes the `public` schema through
    its API: a table without RLS is readable by `anon`, a view bypasses RLS unless it
    runs with the caller's rights, and Supabase's default privileges grant new
    relations to the API roles. dbt's `grants` config never revokes, so this does.
-#}
{% macro supabase_harden(relation=this, materialized=none) %}
    {#- materialized: the hooked node's (analyses/lint passes each kind) -#}
    {%- set materialized = materialized or config.get('materialized') -%}
    {%- if materialized == 'view' -%}
        alter view {{ relation }} set (security_invoker = true);
    {%- else -%}
        alter table {{ relation }} enable row level security;
    {%- endif %}
    {{ revoke_api_role_privileges(relation) }}
{% endmacro %}
