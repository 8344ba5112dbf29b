-- The eval metric registry (var eval_metrics in dbt_project.yml) as a relation: what
-- each metric is computed from, and the seeds' relationship tests read it.

with

registry as (

    select *
    from (
        values
        {%- for metric in var('eval_metrics') %}
            (
                '{{ metric["name"] }}',
                {{ "'" ~ metric['field'] ~ "'" if metric.get('field') else 'null' }},
                '{{ metric["kind"] }}',
                {{ 'true' if metric.get('required') else 'false' }},
                {{ 'true' if metric.get('summary_v1') else 'false' }},
                {{ loop.index }},
                {{ 'true' if metric.get('fail_closed') else 'false' }},
                $description${{ metric.get('description', '') }}$description$
            ){{ "," if not loop.last }}
        {%- endfor %}
    ) as metrics (
        metric,
        field,
        kind,
        is_required,
        in_summary_v1,
        report_order,
        is_fail_closed,
        description
    )

)

select * from registry
