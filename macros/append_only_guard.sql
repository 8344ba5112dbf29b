{#-
    Post-hook making a log table append-only: a statement-level trigger rejects
    update, delete and truncate, whoever runs them. Corrections are new rows.
-#}
{% macro append_only_guard(relation=this) %}
create or replace function {{ relation.schema }}.ai_gate_reject_log_mutation()
returns trigger
language plpgsql
set search_path = ''
as $ai_gate$
begin
    raise exception '%.% is append-only: % is not allowed', tg_table_schema, tg_table_name, tg_op
        using errcode = 'restrict_violation',
        hint = 'Record a new change instead (ai-gate flags set ... --reason ...).';
end
$ai_gate$;

revoke all on function {{ relation.schema }}.ai_gate_reject_log_mutation() from public;

create or replace trigger {{ relation.identifier }}_append_only
before update or delete or truncate on {{ relation }}
for each statement execute function {{ relation.schema }}.ai_gate_reject_log_mutation();
{% endmacro %}
