{#-
    Post-hook on ai_eval_runs: dbt creates a table's check constraints only when it
    creates the table, so a table built before `inconclusive` was a status gets the
    contract's status check again (the rows are checked as it is added).
-#}
{% macro eval_runs_status_values() %}
do $ai_gate$
begin
    if not exists (
        select from pg_catalog.pg_constraint
        where conrelid = {{ dbt.string_literal(this | string) }}::regclass
            and contype = 'c'
            and pg_get_constraintdef(oid) like '%inconclusive%'
    ) then
        alter table {{ this }} drop constraint if exists {{ this.identifier }}_status_check;
        alter table {{ this }} add constraint {{ this.identifier }}_status_check
            check (status in ('running', 'passed', 'failed', 'inconclusive', 'aborted'));
    end if;
end
$ai_gate$;
{% endmacro %}
