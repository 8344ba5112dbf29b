-- Version 1 of the summary agrees with an independent recomputation from the raw samples
-- within ±0.001 for every metric, and exactly for every count.

{%- set rates = eval_rate_metrics(summary_v1_only=true) %}

with

samples as (

    select * from {{ ref('ai_eval_samples') }}

),

summaries as (

    select * from {{ ref('ai_eval_run_summary', v=1) }}

),

recomputed as (

    select
        run_id,
        count(*) as sample_count,
        {%- for metric, field in rates %}
            avg(case when {{ field }} then 1.0 when not {{ field }} then 0.0 end)
                as {{ metric }},
            sum(case when {{ field }} is null then 0 else 1 end) as {{ metric }}_count,
        {%- endfor %}
        percentile_cont(0.95) within group (
            order by latency_ms
        ) filter (where latency_ms is not null) as p95_latency_ms,
        sum(case when latency_ms is null then 0 else 1 end) as p95_latency_ms_count
    from samples
    group by run_id

),

validation_errors as (

    select
        summaries.run_id,
        summaries.sample_count,
        recomputed.sample_count as recomputed_sample_count
    from summaries
    inner join recomputed
        on summaries.run_id = recomputed.run_id
    where
        summaries.sample_count <> recomputed.sample_count
        {%- for metric in rates | map('first') | list + ['p95_latency_ms'] %}
            or summaries.{{ metric }}_count <> recomputed.{{ metric }}_count
            or (summaries.{{ metric }} is null) <> (recomputed.{{ metric }} is null)
            or abs(summaries.{{ metric }} - recomputed.{{ metric }}) > 0.001
        {%- endfor %}

)

select * from validation_errors
