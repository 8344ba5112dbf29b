-- Per evaluation run: the sample count and the seven metrics of version 1 (var
-- eval_metrics, summary_v1: its column list is published and never changes; every
-- metric is a row of version 2). A rate is the true count over the non-null count
-- (null when no sample carries the field);
-- beside each, the count it was computed from and its 95% Wilson interval.
-- p95_latency_ms is percentile_cont(0.95) over the non-null latencies.

{%- set rates = eval_rate_metrics(summary_v1_only=true) %}

with

runs as (

    select * from {{ ref('ai_eval_runs') }}

),

samples as (

    select * from {{ ref('ai_eval_samples') }}

),

counts as (

    select
        run_id,
        count(*) as sample_count,
        {%- for metric, field in rates %}
            count(*) filter (where {{ field }}) as {{ metric }}_true_count,
            count({{ field }}) as {{ metric }}_count,
        {%- endfor %}
        count(latency_ms) as p95_latency_ms_count,
        percentile_cont(0.95) within group (order by latency_ms) as p95_latency_ms
    from samples
    group by run_id

),

summary as (

    -- noqa: disable=ST06
    -- (version 1's column order is published: its p95 columns come last)
    select
        runs.run_id,
        runs.run_type,
        runs.environment,
        runs.status,
        runs.started_at,
        runs.finished_at,
        coalesce(counts.sample_count, 0) as sample_count,
        {%- for metric, field in rates %}
            counts.{{ metric }}_true_count::double precision
            / nullif(counts.{{ metric }}_count, 0) as {{ metric }},
            coalesce(counts.{{ metric }}_count, 0) as {{ metric }}_count,
            {{ wilson_interval_bound(
                'counts.' ~ metric ~ '_true_count', 'counts.' ~ metric ~ '_count', 'lower'
            ) }} as {{ metric }}_ci_low,
            {{ wilson_interval_bound(
                'counts.' ~ metric ~ '_true_count', 'counts.' ~ metric ~ '_count', 'upper'
            ) }} as {{ metric }}_ci_high,
        {%- endfor %}
        counts.p95_latency_ms,
        coalesce(counts.p95_latency_ms_count, 0) as p95_latency_ms_count
    from runs
    left join counts
        on runs.run_id = counts.run_id

)

-- noqa: enable=ST06

select * from summary
