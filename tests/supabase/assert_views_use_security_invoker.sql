-- depends_on: {{ ref('ai_provider_configs') }}
-- depends_on: {{ ref('ai_eval_gate_results') }}
-- depends_on: {{ ref('ai_routing_telemetry') }}
-- depends_on: {{ ref('ai_canary_decisions') }}
-- depends_on: {{ ref('ai_rollback_drills') }}
-- depends_on: {{ ref('ai_latency_cumulative_histogram') }}
-- Every view the project creates runs with the caller's rights, so it cannot bypass RLS.

with

project_relations as (

    {{ ai_gate_project_relations() }}

),

views as (

    select
        namespaces.nspname as schema_name,
        classes.relname as relation_name,
        coalesce(
            'security_invoker=true' = any(classes.reloptions)
            or 'security_invoker=on' = any(classes.reloptions),
            false
        ) as is_security_invoker
    from pg_catalog.pg_class as classes
    inner join pg_catalog.pg_namespace as namespaces
        on classes.relnamespace = namespaces.oid
    where classes.relkind = 'v'

),

validation_errors as (

    select
        views.schema_name,
        views.relation_name
    from views
    inner join project_relations
        on
            views.schema_name = project_relations.schema_name
            and views.relation_name = project_relations.relation_name
    where not views.is_security_invoker

)

select * from validation_errors
