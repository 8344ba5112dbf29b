{#-
    Post-hook on ai_eval_runs: runs are the record of every gate decision, so they are
    never deleted or truncated and a run's run_id never changes; status, verdict and
    finish time are updated as a run completes. This is also what lets
    eval_samples_run_check check a sample's run once, at insert.
-#}
{% macro eval_runs_guard() %}
{%- set function_name = this.schema ~ '.' ~ this.identifier ~ '_reject_removal' -%}
create or replace function {{ function_name }}()
returns trigger
language plpgsql
set search_path = ''
as $ai_gate$
begin
    raise exception '%.%: % is not allowed (runs are kept, and a run_id never changes)',
        tg_table_schema, tg_table_name,
        case when tg_op = 'UPDATE' then 'changing run_id' else tg_op end
        using errcode = 'restrict_violation',
        hint = 'A run that should not count is recorded as a new run; see docs/eval-gates.md.';
end
$ai_gate$;

revoke all on function {{ function_name }}() from public;

create or replace trigger {{ this.identifier }}_keep_runs
before delete or truncate on {{ this }}
for each statement execute function {{ function_name }}();

create or replace trigger {{ this.identifier }}_keep_run_id
before update of run_id on {{ this }}
for each row when (old.run_id is distinct from new.run_id)
execute function {{ function_name }}();
{% endmacro %}
