{#-
    dbt-postgres's create_table_as, plus one config: `partition_by_list` (a column
    name) creates the table partitioned by list on that column. A partitioned table
    holds no rows of its own; whoever writes it creates and attaches the partitions
    (ai_eval_samples: one per run, made by `ai-gate run`). Temporary tables, which the
    incremental materialization builds, are never partitioned.
-#}
{% macro postgres__create_table_as(temporary, relation, sql) -%}
  {%- set unlogged = config.get('unlogged', default=false) -%}
  {%- set sql_header = config.get('sql_header', none) -%}
  {%- set partition_by_list = config.get('partition_by_list', none) -%}

  {{ sql_header if sql_header is not none }}

  create {% if temporary -%}
    temporary
  {%- elif unlogged -%}
    unlogged
  {%- endif %} table {{ relation }}
  {% set contract_config = config.get('contract') %}
  {% if contract_config.enforced %}
    {{ get_assert_columns_equivalent(sql) }}
  {% endif -%}
  {% if contract_config.enforced and (not temporary) -%}
      {{ get_table_columns_and_constraints() }}
      {%- if partition_by_list %} partition by list ({{ adapter.quote(partition_by_list) }}){% endif %} ;
    insert into {{ relation }} (
      {{ adapter.dispatch('get_column_names', 'dbt')() }}
    )
    {%- set sql = get_select_subquery(sql) %}
  {% else %}
    {%- if partition_by_list and not temporary -%}
      {{ exceptions.raise_compiler_error("partition_by_list needs an enforced contract (the columns must be declared before the rows are inserted): " ~ relation) }}
    {%- endif %}
    as
  {% endif %}
  (
    {{ sql }}
  );
{%- endmacro %}
