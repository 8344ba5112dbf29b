-- Version 2 of the summary has exactly one row per run and metric of the registry,
-- and agrees with an independent recomputation from the raw samples (those of cases
-- not quarantined for the run) within ±0.001 for every value, and exactly for every
-- count.

{%- set rates = eval_rate_metrics() %}
{%- set quantiles = eval_quantile_metrics() %}
{%- set repeats = eval_repeat_metrics() %}

with

runs as (

    select * from {{ ref('ai_eval_runs') }}

),

all_samples as (

    select * from {{ ref('ai_eval_samples') }}

),

samples as (

    select all_samples.*
    from all_samples
    inner join runs
        on all_samples.run_id = runs.run_id
    where
        all_samples.case_id is null
        or not jsonb_exists(coalesce(runs.gate_policy -> 'quarantine', '[]'), all_samples.case_id)

),

cases as (

    select
        samples.run_id,
        samples.case_id,
        samples.selected_provider,
        count(*) as attempts,
        sum(case when {{ eval_attempt_passes('samples') }} then 1 else 0 end) as passes
    from samples
    where samples.case_id is not null
    group by samples.run_id, samples.case_id, samples.selected_provider

),

repeated_cases as (

    -- pass^k = rate^k, through logarithms (e^-745 is the least double above 0)
    select
        run_id,
        case_id,
        case
            when passes = 0 then 0.0
            else exp(greatest(attempts * ln(passes::float / attempts), -745))
        end as pass_k
    from cases
    where attempts > 1

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
        union all
    {%- endfor %}
    {%- for metric in repeats %}
        select
            runs.run_id,
            '{{ metric }}' as metric,
            min(repeated_cases.pass_k) as value,
            count(repeated_cases.case_id) as n
        from runs
        left join repeated_cases
            on runs.run_id = repeated_cases.run_id
        group by runs.run_id
        union all
    {%- endfor %}
    select
        null as run_id,
        null as metric,
        null as value,
        null as n
    where false

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
