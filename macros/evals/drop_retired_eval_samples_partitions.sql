{#-
    on-run-end: drops the partitioned ai_eval_samples that eval_samples_from_partitions
    retired (its rows were copied into the plain table), with its partitions, once no
    view reads it any more (this build recreated them). A build that did not recreate
    the views leaves it for the next one; nothing is dropped with cascade.
-#}
{% macro drop_retired_eval_samples_partitions() %}
{%- set retired = target.schema ~ '.ai_eval_samples_partitioned' -%}
do $ai_gate$
begin
    if to_regclass({{ dbt.string_literal(retired) }}) is null then
        return;
    end if;
    begin
        drop table {{ retired }};
    exception when dependent_objects_still_exist then
        raise notice '% is still read by a view; the next full build drops it',
            {{ dbt.string_literal(retired) }};
    end;
end
$ai_gate$;
{% endmacro %}
