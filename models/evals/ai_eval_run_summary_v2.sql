-- Per evaluation run and metric (var eval_metrics, every metric of the registry):
-- the value, the count it was computed from and, for a rate, its 95% Wilson
-- interval. Long, so that a new metric adds rows, not columns (version 1 keeps its
-- published columns). A rate is the true count over the non-null count (null when no
-- sample carries the field); a quantile metric is percentile_cont(0.95) over the
-- non-null values; case_pass_k (kind repeats) is the lowest pass^k of the cases tried
-- more than once by a provider, n how many there are. Every run has a row for every
-- metric, with n = 0 when nothing carries it. The samples of a case quarantined for
-- the run (gate_policy.quarantine, snapshotted from ai_eval_quarantine when it was
-- ingested) are left out: these are the values the gates judge.

{%- set rates = eval_rate_metrics() %}
{%- set quantiles = eval_quantile_metrics() %}
{%- set repeats = eval_repeat_metrics() %}

with

-- not materialized: both are read twice, and a materialized CTE would keep a query
-- for one run (the gates of `ai-gate run`) from reaching the samples' primary key
runs as not materialized (

    select * from {{ ref('ai_eval_runs') }}

),

samples as not materialized (

    select * from {{ ref('ai_eval_samples') }}

),

case_attempts as (

    select * from {{ ref('ai_eval_case_attempts') }}

),

gated_samples as not materialized (

    select samples.*
    from samples
    inner join runs
        on samples.run_id = runs.run_id
    where not coalesce(runs.gate_policy -> 'quarantine' ? samples.case_id, false)

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
    from gated_samples
    group by run_id

),

repeated_cases as (

    -- the cases tried more than once by a provider, quarantined ones aside
    select * from case_attempts
    where attempts > 1 and not is_quarantined

),

repeat_counts as (

    select
        run_id,
        count(*) as repeated_cases,
        -- pass rate ^ attempts, as exp(attempts * ln(rate)); below e^-700 it is 0 (the
        -- power itself would raise an underflow)
        min(
            case
                when passes = 0 then 0.0
                when attempts * ln(passes::double precision / attempts) < -700 then 0.0
                else exp(attempts * ln(passes::double precision / attempts))
            end
        ) as case_pass_k
    from repeated_cases
    group by run_id

),

metric_counts as (

    select
        runs.run_id,
        metrics.metric,
        metrics.successes,
        coalesce(
            metrics.successes::double precision / nullif(metrics.n, 0),
            metrics.exact_value
        ) as value,
        coalesce(metrics.n, 0) as n
    from runs
    left join counts
        on runs.run_id = counts.run_id
    left join repeat_counts
        on runs.run_id = repeat_counts.run_id
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
                ),
            {%- endfor %}
            {%- for metric in repeats %}
                (
                    '{{ metric }}',
                    null::bigint,
                    repeat_counts.repeated_cases,
                    repeat_counts.case_pass_k
                ),
            {%- endfor %}
            -- no metric: a last row, so that every row above ends with a comma
            (null, null, null, null)
        ) as metrics (metric, successes, n, exact_value)
    where metrics.metric is not null

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
