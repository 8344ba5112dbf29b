{#-
    Pre-hook on ai_eval_samples: a table built before samples were partitioned by
    run (a plain table) becomes the partitioned table, its rows kept. The old table
    is renamed and attached as the partition of every run it holds (dropped if it
    holds none); the new parent takes the old name, columns, constraints and
    primary key. Views that read the old table follow the rename until the same
    build recreates them. Runs once: afterwards the table is partitioned already.
-#}
{% macro eval_samples_partition_by_run() %}
{%- set legacy = this.incorporate(path={'identifier': this.identifier ~ '_before_partitioning'}) -%}
{%- set mutation_guard = this.schema ~ '.' ~ this.identifier ~ '_reject_mutation' -%}
do $ai_gate$
declare
    legacy_run_ids text;
begin
    if not exists (
        select from pg_catalog.pg_class
        where oid = to_regclass({{ dbt.string_literal(this | string) }}) and relkind = 'r'
    ) then
        return;
    end if;
    lock table {{ this }} in access exclusive mode;
    alter table {{ this }} rename to {{ adapter.quote(legacy.identifier) }};
    alter index {{ adapter.quote(this.schema) }}.{{ adapter.quote(this.identifier ~ '_pkey') }}
        rename to {{ adapter.quote(legacy.identifier ~ '_pkey') }};
    -- The statement-level triggers belong on the new parent (its post-hooks make
    -- them); a partition keeps its own guard against direct writes.
    drop trigger if exists {{ adapter.quote(this.identifier ~ '_run_exists') }} on {{ legacy }};
    drop trigger if exists {{ adapter.quote(this.identifier ~ '_append_only') }} on {{ legacy }};
    create table {{ this }} (like {{ legacy }} including all) partition by list (run_id);
    select string_agg(quote_literal(legacy_runs.run_id), ', ' order by legacy_runs.run_id)
    into legacy_run_ids
    from (select distinct run_id from {{ legacy }}) as legacy_runs;
    if legacy_run_ids is null then
        drop table {{ legacy }};
        return;
    end if;
    execute format(
        'alter table {{ this }} attach partition {{ legacy }} for values in (%s)',
        legacy_run_ids
    );
    -- It keeps its privileges (revoked from the API roles); RLS, in case it was off.
    alter table {{ legacy }} enable row level security;
    create trigger {{ adapter.quote(legacy.identifier ~ '_append_only') }}
    before update or delete or truncate on {{ legacy }}
    for each statement execute function {{ mutation_guard }}();
end
$ai_gate$;
{% endmacro %}
