-- depends_on: {{ ref('ai_provider_configs') }}
-- depends_on: {{ ref('ai_eval_gate_results') }}
-- depends_on: {{ ref('ai_routing_telemetry') }}
-- depends_on: {{ ref('ai_canary_decisions') }}
-- depends_on: {{ ref('ai_rollback_drills') }}
-- depends_on: {{ ref('ai_latency_cumulative_histogram') }}
-- Every foreign key on a project table has an index whose leading columns are the
-- key's columns, so deletes on the parent and joins do not scan the child.

with

project_relations as (

    {{ ai_gate_project_relations() }}

),

foreign_keys as (

    select
        constraints.conrelid as relation_oid,
        constraints.conname as constraint_name,
        constraints.conkey as key_columns,
        namespaces.nspname as schema_name,
        classes.relname as relation_name
    from pg_catalog.pg_constraint as constraints
    inner join pg_catalog.pg_class as classes
        on constraints.conrelid = classes.oid
    inner join pg_catalog.pg_namespace as namespaces
        on classes.relnamespace = namespaces.oid
    where constraints.contype = 'f'

),

index_columns as (

    select
        indrelid as relation_oid,
        string_to_array(indkey::text, ' ')::smallint[] as indexed_columns
    from pg_catalog.pg_index
    where indisvalid

),

covered_foreign_keys as (

    select distinct
        foreign_keys.relation_oid,
        foreign_keys.constraint_name
    from foreign_keys
    inner join index_columns
        on
            foreign_keys.relation_oid = index_columns.relation_oid
            and foreign_keys.key_columns <@ index_columns.indexed_columns[
                1:cardinality(foreign_keys.key_columns)
            ]

),

validation_errors as (

    select
        foreign_keys.schema_name,
        foreign_keys.relation_name,
        foreign_keys.constraint_name
    from foreign_keys
    inner join project_relations
        on
            foreign_keys.schema_name = project_relations.schema_name
            and foreign_keys.relation_name = project_relations.relation_name
    left join covered_foreign_keys
        on
            foreign_keys.relation_oid = covered_foreign_keys.relation_oid
            and foreign_keys.constraint_name = covered_foreign_keys.constraint_name
    where covered_foreign_keys.relation_oid is null

)

select * from validation_errors
