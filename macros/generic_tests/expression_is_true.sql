{#-
    Fails for every row where `expression` is not true. At column level the
    expression is appended to the column (`expression: ">= 0"`); at model level it is
    a whole boolean expression. Narrow the rows with the test's `where` config.
-#}
{% test expression_is_true(model, expression, column_name=none) %}

with validation_errors as (

    select *
    from {{ model }}
    {% if column_name is none -%}
    where not coalesce(({{ expression }}), false)
    {%- else -%}
    where not coalesce(({{ column_name }} {{ expression }}), false)
    {%- endif %}

)

select * from validation_errors

{% endtest %}
