-- depends_on: {{ ref('ai_provider_configs') }}
-- depends_on: {{ ref('ai_eval_gate_results') }}
-- depends_on: {{ ref('ai_routing_telemetry') }}
-- depends_on: {{ ref('ai_canary_decisions') }}
-- depends_on: {{ ref('ai_rollback_drills') }}
-- depends_on: {{ ref('ai_latency_cumulative_histogram') }}
{%- set api_roles_array = '{' ~ var('supabase_api_roles') | join(',') ~ '}' %}
-- Supabase's API roles (var supabase_api_roles) hold no privilege on any project
-- relation. Roles that do not exist on this server are skipped.

with

project_relations as (

    {{ ai_gate_project_relations() }}

),

api_roles as (

    select rolname as role_name
    from pg_catalog.pg_roles
    where rolname = any(cast({{ dbt.string_literal(api_roles_array) }} as text[]))

),

relations as (

    select
        classes.oid as relation_oid,
        namespaces.nspname as schema_name,
        classes.relname as relation_name
    from pg_catalog.pg_class as classes
    inner join pg_catalog.pg_namespace as namespaces
        on classes.relnamespace = namespaces.oid
    where classes.relkind in ('r', 'p', 'v', 'm')

),

privileges as (

    select privilege_type
    from (
        values
        ('select'), ('insert'), ('update'), ('delete'),
        ('truncate'), ('references'), ('trigger')
    ) as all_privileges (privilege_type)

),

validation_errors as (

    select
        relations.schema_name,
        relations.relation_name,
        api_roles.role_name,
        privileges.privilege_type
    from relations
    inner join project_relations
        on
            relations.schema_name = project_relations.schema_name
            and relations.relation_name = project_relations.relation_name
    cross join api_roles
    cross join privileges
    where
        has_table_privilege(
            api_roles.role_name, relations.relation_oid, privileges.privilege_type
        )

)

select * from validation_errors
