-- depends_on: {{ ref('ai_provider_configs') }}
-- depends_on: {{ ref('ai_eval_gate_results') }}
-- depends_on: {{ ref('ai_routing_telemetry') }}
-- depends_on: {{ ref('ai_canary_decisions') }}
-- depends_on: {{ ref('ai_rollback_drills') }}
-- depends_on: {{ ref('ai_latency_cumulative_histogram') }}
-- Every table the project creates has RLS on: without it Supabase's API serves it to anon.

with

project_relations as (

    {{ ai_gate_project_relations() }}

),

tables as (

    select
        namespaces.nspname as schema_name,
        classes.relname as relation_name,
        classes.relrowsecurity as has_row_level_security
    from pg_catalog.pg_class as classes
    inner join pg_catalog.pg_namespace as namespaces
        on classes.relnamespace = namespaces.oid
    where classes.relkind in ('r', 'p')

),

validation_errors as (

    select
        tables.schema_name,
        tables.relation_name
    from tables
    inner join project_relations
        on
            tables.schema_name = project_relations.schema_name
            and tables.relation_name = project_relations.relation_name
    where not tables.has_row_level_security

)

select * from validation_errors
