{#-
    dbt operation: applies the Phase 2 telemetry migration to the product's
    ai_training_examples table, idempotently. `ai-gate build` runs it before the
    models and tests; `ai-gate migrate --print` prints the same statements
    (ai_training_examples_migration_script).

    Needs a connection with `autocommit: true` (the `migrate` target of ai-gate's own
    profile and of profiles.example.yml: `--target migrate`): CREATE INDEX
    CONCURRENTLY cannot run inside the transaction dbt would otherwise open.
-#}
{% macro migrate_ai_training_examples() %}
    {%- set statements = ai_training_examples_migration_statements() -%}

    {%- set probe = adapter.execute(
        "select to_regclass(" ~ dbt.string_literal(var('product_schema') ~ '.ai_training_examples') ~ ") is not null",
        fetch=true
    )[1] -%}
    {%- if not probe.rows[0][0] -%}
        {{ exceptions.raise_compiler_error(
            'table ' ~ var('product_schema') ~ '.ai_training_examples does not exist. It belongs to the product '
            ~ 'application; on a development database create a Phase-1-shaped one with `ai-gate init-dev`.'
        ) }}
    {%- endif -%}

    {#- A CREATE INDEX CONCURRENTLY that failed leaves an INVALID index that
        IF NOT EXISTS would keep forever: drop it so it is built again. -#}
    {%- for index_name, columns, covered in ai_training_examples_telemetry_indexes() -%}
        {%- set invalid = adapter.execute(
            "select count(*) from pg_catalog.pg_index i join pg_catalog.pg_class c on c.oid = i.indexrelid "
            ~ "join pg_catalog.pg_namespace n on n.oid = c.relnamespace "
            ~ "where n.nspname = " ~ dbt.string_literal(var('product_schema'))
            ~ " and c.relname = " ~ dbt.string_literal(index_name) ~ " and not i.indisvalid",
            fetch=true
        )[1] -%}
        {%- if invalid.rows[0][0] > 0 -%}
            {{ log('dropping invalid index ' ~ index_name, info=true) }}
            {%- do adapter.execute('drop index concurrently if exists ' ~ var('product_schema') ~ '.' ~ index_name) -%}
        {%- endif -%}
    {%- endfor -%}

    {%- for statement in statements -%}
        {%- do adapter.execute(statement) -%}
    {%- endfor -%}
    {{ log('ai_training_examples telemetry migration applied (' ~ statements | length ~ ' statements)', info=true) }}
{% endmacro %}
