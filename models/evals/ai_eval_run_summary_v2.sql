-- Per evaluation run and metric (var eval_metrics, every metric of the registry):
-- the value, the count it was computed from and, for a rate, its 95% Wilson
-- interval. Long, so that a new metric adds rows, not columns (version 1 keeps its
-- published columns). A rate is the true count over the non-null count (null when no
-- sample carries the field); a quantile metric is percentile_cont(0.95) over the
-- non-null values; case_pass_k (kind repeats) is the lowest pass^k of the cases tried
-- more than once by a provider, n how many there are; a mean metric (tokens, cost) is
-- the mean of the non-null amounts with Johnson's skewness-corrected 95% interval
-- (macro skewed_mean_interval_bound); cost_per_pass_usd is the total cost of the
-- attempts whose cost is known over how many of them passed (null when none passed),
-- n how many costs are known; cost_ratio (kind baseline_ratio) is the run's mean cost
-- over its baseline run's (null without one), with the delta method's 95% interval
-- on the log ratio. Every run has a row for every
-- metric, with n = 0 when nothing carries it. The samples of a case quarantined for
-- the run (gate_policy.quarantine, snapshotted from ai_eval_quarantine when it was
-- ingested) are left out: these are the values the gates judge.

{%- set rates = eval_rate_metrics() %}
{%- set quantiles = eval_quantile_metrics() %}
{%- set repeats = eval_repeat_metrics() %}
{%- set means = eval_mean_metrics() %}
{%- set costs_per_pass = eval_cost_per_pass_metrics() %}
{%- set ratios = eval_baseline_ratio_metrics() %}

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

    select
        samples.*,
        {{ eval_attempt_passes('samples') }} as attempt_passes
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
        {%- for metric, field in means %}
            count({{ field }}) as {{ metric }}_count,
            avg({{ field }}::double precision) as {{ metric }},
            stddev_samp({{ field }}::double precision) as {{ metric }}_sd,
            -- the third central moment, from the raw ones
            avg(({{ field }}::double precision) ^ 3)
            - 3 * avg({{ field }}::double precision) * avg(({{ field }}::double precision) ^ 2)
            + 2 * avg({{ field }}::double precision) ^ 3 as {{ metric }}_m3,
        {%- endfor %}
        {%- if costs_per_pass %}
            -- the usage field cost_usd (records.COST_FIELD): recorded or priced
            count(cost_usd) as costed_attempts,
            sum(cost_usd) as costed_total_usd,
            count(*) filter (
                where cost_usd is not null and attempt_passes
            ) as costed_passes,
        {%- endif %}
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
        metrics.sd,
        metrics.third_moment,
        metrics.log_se,
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
    {%- for metric, mean, field in ratios %}
        -- the baseline run's {{ mean }} (its own quarantine aside), for {{ metric }}:
        -- read from its samples by its run id (the primary key); lateral, so the
        -- summary of one run stays one aggregate the gates join once
        left join
            lateral (
                select
                    count(baseline_samples.{{ field }}) as n,
                    avg(baseline_samples.{{ field }}::double precision) as mean,
                    stddev_samp(baseline_samples.{{ field }}::double precision) as sd
                from gated_samples as baseline_samples
                where baseline_samples.run_id = runs.baseline_run_id
            ) as {{ metric }}_baselines
            on runs.baseline_run_id is not null
    {%- endfor %}
    cross join
        lateral (
            values
            {%- for metric, field in rates %}
                (
                    '{{ metric }}',
                    counts.{{ metric }}_true_count,
                    counts.{{ metric }}_count,
                    null::double precision,
                    null::double precision,
                    null::double precision,
                    null::double precision
                ),
            {%- endfor %}
            {%- for metric, field in quantiles %}
                (
                    '{{ metric }}',
                    null::bigint,
                    counts.{{ metric }}_count,
                    counts.{{ metric }},
                    null::double precision,
                    null::double precision,
                    null::double precision
                ),
            {%- endfor %}
            {%- for metric, field in means %}
                (
                    '{{ metric }}',
                    null::bigint,
                    counts.{{ metric }}_count,
                    counts.{{ metric }},
                    counts.{{ metric }}_sd,
                    counts.{{ metric }}_m3,
                    null::double precision
                ),
            {%- endfor %}
            {%- for metric in repeats %}
                (
                    '{{ metric }}',
                    null::bigint,
                    repeat_counts.repeated_cases,
                    repeat_counts.case_pass_k,
                    null::double precision,
                    null::double precision,
                    null::double precision
                ),
            {%- endfor %}
            {%- for metric in costs_per_pass %}
                (
                    '{{ metric }}',
                    null::bigint,
                    counts.costed_attempts,
                    counts.costed_total_usd / nullif(counts.costed_passes, 0),
                    null::double precision,
                    null::double precision,
                    null::double precision
                ),
            {%- endfor %}
            {%- for metric, mean, field in ratios %}
                (
                    '{{ metric }}',
                    null::bigint,
                    -- (least() would skip a missing baseline's null)
                    case
                        when {{ metric }}_baselines.n is not null
                            then least(counts.{{ mean }}_count, {{ metric }}_baselines.n)
                    end,
                    counts.{{ mean }} / nullif({{ metric }}_baselines.mean, 0),
                    null::double precision,
                    null::double precision,
                    -- the standard error of the log ratio (delta method), from both
                    -- runs' means and standard deviations
                    case
                        when
                            counts.{{ mean }}_count >= 2 and {{ metric }}_baselines.n >= 2
                            and counts.{{ mean }} > 0 and {{ metric }}_baselines.mean > 0
                            then sqrt(
                                    counts.{{ mean }}_sd ^ 2
                                    / (counts.{{ mean }}_count * counts.{{ mean }} ^ 2)
                                    + {{ metric }}_baselines.sd ^ 2
                                    / ({{ metric }}_baselines.n * {{ metric }}_baselines.mean ^ 2)
                                )
                    end
                ),
            {%- endfor %}
            -- no metric: a last row, so that every row above ends with a comma
            (null, null, null, null, null, null, null)
        ) as metrics (metric, successes, n, exact_value, sd, third_moment, log_se)
    where metrics.metric is not null

),

summary as (

    select
        run_id,
        metric,
        value,
        n,
        -- a rate's Wilson interval, a mean's Johnson interval, a ratio's on its log
        case
            when successes is not null
                then {{ wilson_interval_bound('successes', 'n', 'lower') }}
            when sd is not null
                then {{ skewed_mean_interval_bound('value', 'sd', 'third_moment', 'n', 'lower') }}
            else value * exp(-1.959963984540054 * log_se)
        end as ci_low,
        case
            when successes is not null
                then {{ wilson_interval_bound('successes', 'n', 'upper') }}
            when sd is not null
                then {{ skewed_mean_interval_bound('value', 'sd', 'third_moment', 'n', 'upper') }}
            else value * exp(1.959963984540054 * log_se)
        end as ci_high
    from metric_counts

)

select * from summary
