-- depends_on: {{ ref('ai_provider_configs') }}
-- depends_on: {{ ref('ai_eval_gate_results') }}
-- depends_on: {{ ref('ai_routing_telemetry') }}
-- depends_on: {{ ref('ai_canary_decisions') }}
-- depends_on: {{ ref('ai_rollback_drills') }}
-- depends_on: {{ ref('ai_latency_cumulative_histogram') }}
-- Every table the project creates has a primary key.

with

project_relations as (

    {{ ai_gate_project_relations() }}

),

tables as (

    select
        classes.oid as relation_oid,
        namespaces.nspname as schema_name,
        classes.relname as relation_name
    from pg_catalog.pg_class as classes
    inner join pg_catalog.pg_namespace as namespaces
        on classes.relnamespace = namespaces.oid
    where classes.relkind in ('r', 'p')

),

primary_keys as (

    select conrelid as relation_oid
    from pg_catalog.pg_constraint
    where contype = 'p'

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
    left join primary_keys
        on tables.relation_oid = primary_keys.relation_oid
    where primary_keys.relation_oid is null

)

select * from validation_errors
