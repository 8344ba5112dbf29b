{#-
    A query of one row, `signature`: a relation's columns in order, each as its name,
    type and collation, as a JSON array. CREATE OR REPLACE VIEW keeps a view (and the
    views that read it) only when its old signature is a prefix of the new one.
-#}
{% macro view_column_signature_query(relation) %}
select
    coalesce(
        jsonb_agg(
            jsonb_build_array(
                columns.attname::text,
                pg_catalog.format_type(columns.atttypid, columns.atttypmod),
                columns.attcollation::bigint
            )
            order by columns.attnum
        ),
        '[]'::jsonb
    )::text as signature
from pg_catalog.pg_attribute as columns
where
    columns.attrelid = to_regclass({{ dbt.string_literal(relation.include(database=false) | string) }})
    and columns.attnum > 0
    and not columns.attisdropped
{% endmacro %}
