{#-
    Pre-hook on ai_eval_samples: a database built while samples were partitioned by
    run (ADR 0002, superseded by ADR 0003) gets the plain table back, every row kept.
    The partitioned table is renamed to <name>_partitioned, a plain table with the
    same columns, constraints, primary key and foreign key takes the old name, and
    every sample is copied into it, all in the hook's transaction: a failure leaves
    the partitioned table as it was. Views that read the old table follow the rename
    until this build recreates them; drop_retired_eval_samples_partitions (on-run-end)
    drops the renamed table and its partitions once nothing reads it any more. A plain
    table from before partitioning (no foreign key then) gets its foreign key.
-#}
{% macro eval_samples_from_partitions(runs_relation) %}
{%- set retired = this.incorporate(path={'identifier': this.identifier ~ '_partitioned'}) -%}
do $ai_gate$
declare
    copied bigint;
    kept bigint;
begin
    if exists (
        select from pg_catalog.pg_class
        where oid = to_regclass({{ dbt.string_literal(this | string) }}) and relkind = 'r'
    ) and not exists (
        select from pg_catalog.pg_constraint
        where conrelid = to_regclass({{ dbt.string_literal(this | string) }})
            and confrelid = to_regclass({{ dbt.string_literal(runs_relation | string) }})
            and contype = 'f'
    ) then
        -- A plain table from before partitioning, when a trigger checked the run.
        alter table {{ this }}
            add constraint {{ adapter.quote(this.identifier ~ '_run_id_fkey') }}
            foreign key (run_id) references {{ runs_relation }} (run_id);
    end if;
    if not exists (
        select from pg_catalog.pg_class
        where oid = to_regclass({{ dbt.string_literal(this | string) }}) and relkind = 'p'
    ) then
        return;
    end if;
    lock table {{ this }} in access exclusive mode;
    alter table {{ this }} rename to {{ adapter.quote(retired.identifier) }};
    alter index {{ adapter.quote(this.schema) }}.{{ adapter.quote(this.identifier ~ '_pkey') }}
        rename to {{ adapter.quote(retired.identifier ~ '_pkey') }};
    -- The retired table's statement triggers go with it; the new table's come from
    -- this model's post-hooks.
    drop trigger if exists {{ adapter.quote(this.identifier ~ '_run_exists') }} on {{ retired }};
    drop trigger if exists {{ adapter.quote(this.identifier ~ '_append_only') }} on {{ retired }};
    create table {{ this }} (
        like {{ retired }} including defaults including constraints including comments
    );
    alter table {{ this }}
        add constraint {{ adapter.quote(this.identifier ~ '_pkey') }}
        primary key (run_id, sample_id);
    insert into {{ this }} select * from {{ retired }} order by run_id, sample_id;
    get diagnostics copied = row_count;
    select count(*) into kept from {{ retired }};
    if copied <> kept then
        raise exception 'converting %: copied % of % samples', {{ dbt.string_literal(this | string) }}, copied, kept;
    end if;
    alter table {{ this }}
        add constraint {{ adapter.quote(this.identifier ~ '_run_id_fkey') }}
        foreign key (run_id) references {{ runs_relation }} (run_id);
end
$ai_gate$;
{% endmacro %}
