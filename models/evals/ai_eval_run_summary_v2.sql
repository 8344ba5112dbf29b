-- Per evaluation run and metric (var eval_metrics, every metric of the registry):
-- the value, the count it was computed from and, for a rate, its 95% Wilson
-- interval. Long, so that a new metric adds rows, not columns (version 1 keeps its
-- published columns). A rate is the true count over the non-null count (null when no
-- sample carries the field); a quantile metric is percentile_cont(0.95) over the
-- non-null values. Every run has a row for every metric, with n = 0 when it has no
-- samples carrying the field.

{%- set rates = eval_rate_metrics() %}
{%- set quantiles = eval_quantile_metrics() %}

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
        {%- for metric, field in rates %}
            count(*) filter (where {{ field }}) as {{ metric }}_true_count,
            count({{ field }}) as {{ metric }}_count,
        {%- endfor %}
        {%- for metric, field in quantiles %}
            count({{ field }}) as {{ metric }}_count,
            percentile_cont(0.95) within group (order by {{ field }}) as {{ metric }},
        {%- endfor %}
        count(*) as sample_count
    from samples
    group by run_id

),

metric_counts as (

    select
        runs.run_id,
        metrics.metric,
        metrics.successes,
        coalesce(
            metrics.successes::double precision / nullif(metrics.n, 0),
            metrics.quantile_value
        ) as value,
        coalesce(metrics.n, 0) as n
    from runs
    left join counts
        on runs.run_id = counts.run_id
    cross join
        lateral (
            values
            {%- for metric, field in rates %}
                (
                    '{{ metric }}',
                    counts.{{ metric }}_true_count,
                    counts.{{ metric }}_count,
                    null::double precision
                ),
            {%- endfor %}
            {%- for metric, field in quantiles %}
                (
                    '{{ metric }}',
                    null::bigint,
                    counts.{{ metric }}_count,
                    counts.{{ metric }}
                ){{ "," if not loop.last }}
            {%- endfor %}
        ) as metrics (metric, successes, n, quantile_value)

),

summary as (

    select
        run_id,
        metric,
        value,
        n,
        {{ wilson_interval_bound('successes', 'n', 'lower') }} as ci_low,
        {{ wilson_interval_bound('successes', 'n', 'upper') }} as ci_high
    from metric_counts

)

select * from summary
