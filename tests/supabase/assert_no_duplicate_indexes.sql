-- depends_on: {{ ref('ai_provider_configs') }}
-- depends_on: {{ ref('ai_eval_gate_results') }}
-- depends_on: {{ ref('ai_routing_telemetry') }}
-- depends_on: {{ ref('ai_canary_decisions') }}
-- depends_on: {{ ref('ai_rollback_drills') }}
-- depends_on: {{ ref('ai_latency_cumulative_histogram') }}
-- No project table has two indexes over the same columns, operator classes,
-- expressions and predicate: the second costs writes and buys nothing.

with

project_relations as (

    {{ ai_gate_project_relations() }}

),

indexes as (

    select
        namespaces.nspname as schema_name,
        tables.relname as relation_name,
        index_classes.relname as index_name,
        concat_ws(
            ' | ',
            pg_index.indkey::text,
            pg_index.indclass::text,
            pg_index.indcollation::text,
            pg_index.indoption::text,
            coalesce(pg_get_expr(pg_index.indexprs, pg_index.indrelid), ''),
            coalesce(pg_get_expr(pg_index.indpred, pg_index.indrelid), ''),
            index_classes.relam::text
        ) as index_signature
    from pg_catalog.pg_index as pg_index
    inner join pg_catalog.pg_class as index_classes
        on pg_index.indexrelid = index_classes.oid
    inner join pg_catalog.pg_class as tables
        on pg_index.indrelid = tables.oid
    inner join pg_catalog.pg_namespace as namespaces
        on tables.relnamespace = namespaces.oid

),

validation_errors as (

    select
        indexes.schema_name,
        indexes.relation_name,
        indexes.index_signature,
        string_agg(indexes.index_name, ', ' order by indexes.index_name) as index_names
    from indexes
    inner join project_relations
        on
            indexes.schema_name = project_relations.schema_name
            and indexes.relation_name = project_relations.relation_name
    group by indexes.schema_name, indexes.relation_name, indexes.index_signature
    having count(*) > 1

)

select * from validation_errors
