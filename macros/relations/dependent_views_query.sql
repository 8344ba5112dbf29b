{#-
    A query of one row, `saved_views`: every view that reads `relation`, directly or
    through other views, as a JSON array in the order they can be created again (a
    view after every view it reads): schema, name, kind, definition, options, ACL,
    owner and comments. Replacing a relation whose columns changed drops these views
    (PostgreSQL's cascade); recreate_dependent_views puts them back in the same
    transaction (ADR 0006).
-#}
{% macro dependent_views_query(relation) %}
with recursive

dependants (view_oid, depth) as (

    select
        rewrites.ev_class,
        1
    from pg_catalog.pg_depend as depends
    inner join pg_catalog.pg_rewrite as rewrites
        on depends.objid = rewrites.oid
    where
        depends.classid = 'pg_catalog.pg_rewrite'::regclass
        and depends.refclassid = 'pg_catalog.pg_class'::regclass
        and depends.refobjid = to_regclass({{ dbt.string_literal(relation.include(database=false) | string) }})
        and rewrites.ev_class <> depends.refobjid

    union

    -- views form no cycle, so this ends
    select
        rewrites.ev_class,
        dependants.depth + 1
    from dependants
    inner join pg_catalog.pg_depend as depends
        on dependants.view_oid = depends.refobjid
    inner join pg_catalog.pg_rewrite as rewrites
        on depends.objid = rewrites.oid
    where
        depends.classid = 'pg_catalog.pg_rewrite'::regclass
        and depends.refclassid = 'pg_catalog.pg_class'::regclass
        and rewrites.ev_class <> depends.refobjid

),

deepest as (

    -- a view is created after the deepest of the views it reads
    select
        view_oid,
        max(depth) as depth
    from dependants
    group by view_oid

),

saved as (

    select
        deepest.depth,
        namespaces.nspname as schema_name,
        classes.relname as view_name,
        classes.relkind as kind,
        classes.relacl::text as acl,
        classes.relowner::bigint as owner_oid,
        rtrim(pg_catalog.pg_get_viewdef(classes.oid), '; ' || chr(10)) as definition,
        array_to_string(classes.reloptions, ', ') as options,
        pg_catalog.obj_description(classes.oid, 'pg_class') as comment,
        (
            select
                jsonb_object_agg(
                    columns.attname, pg_catalog.col_description(classes.oid, columns.attnum)
                )
            from pg_catalog.pg_attribute as columns
            where
                columns.attrelid = classes.oid
                and columns.attnum > 0
                and pg_catalog.col_description(classes.oid, columns.attnum) is not null
        ) as column_comments
    from deepest
    inner join pg_catalog.pg_class as classes
        on deepest.view_oid = classes.oid
    inner join pg_catalog.pg_namespace as namespaces
        on classes.relnamespace = namespaces.oid

)

select
    coalesce(
        jsonb_agg(to_jsonb(saved) order by saved.depth, saved.schema_name, saved.view_name),
        '[]'::jsonb
    )::text as saved_views
from saved
{% endmacro %}
