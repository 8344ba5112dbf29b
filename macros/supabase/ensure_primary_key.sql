{#-
    Adds a primary key to a relation dbt cannot give one through a contract (seeds),
    unless it already has one. Duplicate keys in the seed fail the seed here.
-#}
{% macro ensure_primary_key(columns, relation=this) %}
do $ai_gate$
begin
    if not exists (
        select
        from pg_catalog.pg_constraint
        where
            conrelid = to_regclass({{ dbt.string_literal(relation.schema ~ '.' ~ relation.identifier) }})
            and contype = 'p'
    ) then
        alter table {{ relation }} add primary key ({{ columns | join(', ') }});
    end if;
end
$ai_gate$;
{% endmacro %}
