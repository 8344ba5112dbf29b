{#-
    Fails for every row of the model that no row of `to` refers to through `field`:
    the reverse of dbt's `relationships` (for example, every run has a sample).
-#}
{% test has_related_rows(model, column_name, to, field) %}

with

parents as (

    select {{ column_name }} as parent_key
    from {{ model }}
    where {{ column_name }} is not null

),

children as (

    select distinct {{ field }} as parent_key
    from {{ to }}

),

validation_errors as (

    select parents.parent_key
    from parents
    left join children
        on parents.parent_key = children.parent_key
    where children.parent_key is null

)

select * from validation_errors

{% endtest %}
