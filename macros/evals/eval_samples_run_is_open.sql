{#-
    Post-hook on ai_eval_samples: samples are added only to a run that is being
    ingested (status `running`). The foreign key says the run exists; this says its
    verdict is not given yet, so no sample can be slipped under a judged run. Checked
    once per statement over its transition table (COPY included).
-#}
{% macro eval_samples_run_is_open(runs_relation) %}
{#- Without the database: the function body must also work in a database cloned
    from this one under another name. -#}
{%- set runs = runs_relation.include(database=false) -%}
{%- set samples = this.include(database=false) -%}
{%- set function_name = this.schema ~ '.' ~ this.identifier ~ '_check_run_is_open' -%}
{#- The run check that stood in for the foreign key while samples were partitioned. -#}
drop trigger if exists {{ this.identifier }}_run_exists on {{ samples }};
drop function if exists {{ this.schema }}.{{ this.identifier }}_check_run_exists();

{#- security definer: it reads ai_eval_runs with its owner's rights, whatever the
    inserting role may read (row-level security on). #}
create or replace function {{ function_name }}()
returns trigger
language plpgsql
security definer
set search_path = ''
as $ai_gate$
declare
    closed_run record;
begin
    select runs.run_id, runs.status into closed_run
    from (select distinct inserted_samples.run_id from inserted_samples) as inserted_run_ids
    inner join {{ runs }} as runs on inserted_run_ids.run_id = runs.run_id
    where runs.status <> 'running'
    limit 1;
    if found then
        raise exception 'insert into %.%: run % is %; samples are added only while a run is ingested',
            tg_table_schema, tg_table_name, quote_literal(closed_run.run_id), closed_run.status
            using errcode = 'restrict_violation';
    end if;
    return null;
end
$ai_gate$;

revoke all on function {{ function_name }}() from public;

create or replace trigger {{ this.identifier }}_run_is_open
after insert on {{ samples }}
referencing new table as inserted_samples
for each statement execute function {{ function_name }}();
{% endmacro %}
