{#-
    Fails for every group (for example every environment) whose count of rows
    matching `condition` is below `min_count` or above `max_count`. Groups with no
    matching row at all are counted as 0, so a missing default is caught too.
-#}
{% test row_count_per_group_between(model, group_by, condition, min_count=none, max_count=none) %}

with

grouped as (

    select
        {{ group_by }} as group_key,
        count(*) filter (where {{ condition }}) as matching_rows
    from {{ model }}
    group by {{ group_by }}

),

validation_errors as (

    select
        group_key,
        matching_rows
    from grouped
    where
        false
        {%- if min_count is not none %}
        or matching_rows < {{ min_count }}
        {%- endif %}
        {%- if max_count is not none %}
        or matching_rows > {{ max_count }}
        {%- endif %}

)

select * from validation_errors

{% endtest %}
