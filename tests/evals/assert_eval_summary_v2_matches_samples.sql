-- Version 2 of the summary has exactly one row per run and metric of the registry,
-- and agrees with an independent recomputation from the raw samples within ±0.001
-- for every value, and exactly for every count.

{%- set rates = eval_rate_metrics() %}
{%- set quantiles = eval_quantile_metrics() %}

with

runs as (

    select * from {{ ref('ai_eval_runs') }}

),

samples as (

    select * from {{ ref('ai_eval_samples') }}

),

summaries as (

    select * from {{ ref('ai_eval_run_summary', v=2) }}

),

recomputed as (

    {%- for metric, field in rates %}
        select
            runs.run_id,
            '{{ metric }}' as metric,
            avg(case when samples.{{ field }} then 1.0 when not samples.{{ field }} then 0.0 end)
                as value,
            sum(case when samples.{{ field }} is null then 0 else 1 end) as n
        from runs
        left join samples
            on runs.run_id = samples.run_id
        group by runs.run_id
        union all
    {%- endfor %}
    {%- for metric, field in quantiles %}
        select
            runs.run_id,
            '{{ metric }}' as metric,
            percentile_cont(0.95) within group (
                order by samples.{{ field }}
            ) filter (where samples.{{ field }} is not null) as value,
            sum(case when samples.{{ field }} is null then 0 else 1 end) as n
        from runs
        left join samples
            on runs.run_id = samples.run_id
        group by runs.run_id
        {{ "union all" if not loop.last }}
    {%- endfor %}

),

rows_per_metric as (

    select
        run_id,
        metric,
        count(*) as summary_rows
    from summaries
    group by run_id, metric

),

validation_errors as (

    select
        recomputed.run_id,
        recomputed.metric,
        recomputed.value as recomputed_value,
        summaries.value,
        recomputed.n as recomputed_n,
        summaries.n
    from recomputed
    left join summaries
        on
            recomputed.run_id = summaries.run_id
            and recomputed.metric = summaries.metric
    left join rows_per_metric
        on
            recomputed.run_id = rows_per_metric.run_id
            and recomputed.metric = rows_per_metric.metric
    where
        summaries.run_id is null
        or rows_per_metric.summary_rows <> 1
        or summaries.n <> coalesce(recomputed.n, 0)
        or (summaries.value is null) <> (recomputed.value is null)
        or abs(summaries.value - recomputed.value) > 0.001

)

select * from validation_errors
