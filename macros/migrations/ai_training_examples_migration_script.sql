{#-
    The telemetry migration as one SQL script, for the product repository's own
    migrations: `ai-gate migrate --print` renders this macro without starting dbt
    (ai_gate/dbt_macros.py), so it may use only `var`, `return` and the migration's
    other macros.
-#}
{% macro ai_training_examples_migration_script() %}
    {%- set table = var('product_schema') ~ '.ai_training_examples' -%}
    {%- set lines = [
        '-- ai-gate: Phase 2 telemetry migration for ' ~ table,
        '-- Idempotent. Run outside a transaction block: CREATE INDEX CONCURRENTLY needs that.',
        '-- If a concurrent build was interrupted, drop the INVALID index it left first:',
        '--   drop index concurrently if exists ' ~ var('product_schema') ~ '.<index name>;',
    ] -%}
    {%- for statement in ai_training_examples_migration_statements() -%}
        {%- do lines.append('\n' ~ statement) -%}
    {%- endfor -%}
    {{ return(lines | join('\n') ~ '\n') }}
{% endmacro %}
