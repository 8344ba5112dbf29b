{#-
    The Phase 2 telemetry migration of the product's ai_training_examples table, as
    a list of statements. `migrate_ai_training_examples` runs them; `ai-gate migrate
    --print` prints them for the product repository's own migrations.

    Non-breaking by construction: the new columns are nullable with no default (no
    table rewrite, and Phase 1 inserts that omit them keep working); lock_timeout
    keeps the ALTER from queueing the product's writes behind a long query; the
    indexes are built concurrently (no write lock), so they run outside a transaction.

    Autovacuum runs after every 10,000 inserted rows (by default only after inserts
    of a fifth of the table: two million rows at 10M). Vacuum marks the new rows'
    pages all-visible, which is what lets the latency rollup refresh and the raw tail
    of the latency functions read them from the covering index alone; unvacuumed,
    every row costs a heap visit (docs/benchmarks.md). A storage parameter: no
    rewrite, and its lock does not block reads or writes.
-#}
{% macro ai_training_examples_migration_statements() %}
    {%- set table = var('product_schema') ~ '.ai_training_examples' -%}
    {%- set add_columns -%}
begin;
set local lock_timeout = '5s';
alter table {{ table }}
{%- for name, data_type in ai_training_examples_telemetry_columns() %}
    add column if not exists {{ name }} {{ data_type }}{{ ',' if not loop.last }}
{%- endfor %};
alter table {{ table }} set (
    autovacuum_vacuum_insert_threshold = 10000,
    autovacuum_vacuum_insert_scale_factor = 0
);
commit;
    {%- endset -%}
    {%- set statements = [add_columns] -%}
    {%- for index_name, columns, covered in ai_training_examples_telemetry_indexes() -%}
        {%- do statements.append(
            'create index concurrently if not exists ' ~ index_name
            ~ ' on ' ~ table ~ ' (' ~ columns ~ ')'
            ~ (' include (' ~ covered ~ ')' if covered else '') ~ ';'
        ) -%}
    {%- endfor -%}
    {{ return(statements) }}
{% endmacro %}
