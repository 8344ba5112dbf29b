{#-
    Post-hook on ai_eval_samples: every sample's run_id is a row of ai_eval_runs,
    checked once per statement over its transition table instead of by a foreign key.
    A foreign key checks (and locks) the run row once per sample, a large share of
    the server's cost of storing samples; this checks each
    distinct run_id of the statement once. Runs are never deleted and their run_id
    never changes (eval_runs_guard), so a run that was there stays there.
    A database built before this replaces the foreign key: the hook drops it.
-#}
{% macro eval_samples_run_check(runs_relation) %}
{#- Without the database: the function body must also work in a database cloned
    from this one under another name. -#}
{%- set runs = runs_relation.include(database=false) -%}
{%- set samples = this.include(database=false) -%}
{%- set function_name = this.schema ~ '.' ~ this.identifier ~ '_check_run_exists' -%}
do $ai_gate$
declare
    legacy_key record;
begin
    for legacy_key in
        select conname
        from pg_catalog.pg_constraint
        where conrelid = '{{ samples }}'::regclass
            and confrelid = '{{ runs }}'::regclass
            and contype = 'f'
    loop
        execute format('alter table {{ samples }} drop constraint %I', legacy_key.conname);
    end loop;
end
$ai_gate$;

{#- security definer: like a foreign key's check, it reads ai_eval_runs with its
    owner's rights, whatever the inserting role may read (row-level security on). -#}
create or replace function {{ function_name }}()
returns trigger
language plpgsql
security definer
set search_path = ''
as $ai_gate$
declare
    missing_run_id text;
begin
    -- No row lock as a foreign key takes: a run cannot be deleted, nor its
    -- run_id changed (eval_runs_guard), so a run seen here stays.
    select inserted_run_ids.run_id into missing_run_id
    from (select distinct inserted_samples.run_id from inserted_samples) as inserted_run_ids
    where not exists (
        select from {{ runs }} as runs
        where runs.run_id = inserted_run_ids.run_id
    )
    limit 1;
    if found then
        raise exception 'insert into %.% refers to run_id % that is not in {{ runs_relation.schema }}.{{ runs_relation.identifier }}',
            tg_table_schema, tg_table_name, coalesce(quote_literal(missing_run_id), 'null')
            using errcode = 'foreign_key_violation';
    end if;
    return null;
end
$ai_gate$;

revoke all on function {{ function_name }}() from public;

create or replace trigger {{ this.identifier }}_run_exists
after insert on {{ samples }}
referencing new table as inserted_samples
for each statement execute function {{ function_name }}();
{% endmacro %}
