{#-
    Post-hook on ai_eval_runs: a run is the record of a gate decision, so
    - no run is ever deleted or truncated;
    - what a run is (its id, file and hash, environment, type, thresholds, strict,
      synthetic flag, who started it and when) never changes;
    - its status moves only running -> passed | failed | inconclusive | aborted, or
      aborted -> the same (a retried judgement); a passed, failed or inconclusive run
      is final: none of its columns changes again.
    Whoever runs the statement, the CLI or SQL by hand.
-#}
{% macro eval_runs_guard() %}
{%- set removal_function = this.schema ~ '.' ~ this.identifier ~ '_reject_removal' -%}
{%- set update_function = this.schema ~ '.' ~ this.identifier ~ '_check_update' -%}
create or replace function {{ removal_function }}()
returns trigger
language plpgsql
set search_path = ''
as $ai_gate$
begin
    raise exception '%.%: % is not allowed (runs are kept)',
        tg_table_schema, tg_table_name, tg_op
        using errcode = 'restrict_violation',
        hint = 'A run that should not count is recorded as a new run; see docs/eval-gates.md.';
end
$ai_gate$;

revoke all on function {{ removal_function }}() from public;

create or replace function {{ update_function }}()
returns trigger
language plpgsql
set search_path = ''
as $ai_gate$
declare
    changed text;
begin
    -- Every column but the judged ones; a column added later is covered too.
    select string_agg(old_columns.key, ', ' order by old_columns.key) into changed
    from jsonb_each(to_jsonb(old)) as old_columns
    where old_columns.key not in ('status', 'finished_at', 'verdict', 'metadata')
        and old_columns.value is distinct from to_jsonb(new) -> old_columns.key;
    if changed is not null then
        raise exception '%.%: run %: % cannot change', tg_table_schema, tg_table_name,
            quote_literal(old.run_id), changed
            using errcode = 'restrict_violation',
            hint = 'A run is judged by what it was given; record a new run instead.';
    end if;
    if old.status in ('passed', 'failed', 'inconclusive') and new is distinct from old then
        raise exception '%.%: run % was judged %; its verdict is final',
            tg_table_schema, tg_table_name, quote_literal(old.run_id), old.status
            using errcode = 'restrict_violation',
            hint = 'A run that should not count is recorded as a new run; see docs/eval-gates.md.';
    end if;
    if old.status = 'aborted' and new.status = 'running' then
        raise exception '%.%: run % is aborted; it can be judged again, not reopened',
            tg_table_schema, tg_table_name, quote_literal(old.run_id)
            using errcode = 'restrict_violation';
    end if;
    return new;
end
$ai_gate$;

revoke all on function {{ update_function }}() from public;

create or replace trigger {{ this.identifier }}_keep_runs
before delete or truncate on {{ this }}
for each statement execute function {{ removal_function }}();

drop trigger if exists {{ this.identifier }}_keep_run_id on {{ this }};

create or replace trigger {{ this.identifier }}_final_verdict
before update on {{ this }}
for each row execute function {{ update_function }}();
{% endmacro %}
