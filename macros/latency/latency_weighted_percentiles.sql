{#-
    SQL tail computing p50/p95/p99 exactly as percentile_cont would, from a relation
    of (grp, value, n) rows: n occurrences of value in group grp. One row per group
    plus an overall row (grp null). percentile_cont(p) interpolates linearly between
    the values at 0-based ranks floor(h) and floor(h) + 1, h = p * (total - 1).
-#}
{% macro latency_weighted_percentiles(relation) %}
    , merged as (
        select grp, value, sum(n)::bigint as n
        from {{ relation }}
        group by grouping sets ((grp, value), (value))
    ),
    grouped as (
        select
            grp,
            grouping_key,
            value,
            n,
            sum(n) over (
                partition by grouping_key order by value rows unbounded preceding
            ) as up_to,
            sum(n) over (partition by grouping_key) as total
        from (
            select
                grp,
                value,
                n,
                -- the overall row has grp null; the key tells it from a null provider
                coalesce('p:' || grp, 'all') as grouping_key
            from merged
        ) as keyed
    ),
    totals as (
        select distinct grouping_key, grp, total from grouped
    ),
    targets as (
        select
            totals.grouping_key,
            totals.grp,
            totals.total,
            fractions.p,
            fractions.p * (totals.total - 1) as h
        from totals
        cross join (values (0.5::float8), (0.95::float8), (0.99::float8)) as fractions (p)
    ),
    ranked as (
        select
            targets.*,
            (
                select g.value from grouped as g
                where g.grouping_key = targets.grouping_key and g.up_to > floor(targets.h)
                order by g.up_to limit 1
            ) as value_low,
            (
                select g.value from grouped as g
                where g.grouping_key = targets.grouping_key and g.up_to > floor(targets.h) + 1
                order by g.up_to limit 1
            ) as value_high
        from targets
    )
    select
        (array_agg(grp))[1] as selected_provider,
        max(total)::bigint as requests,
        max(case when p = 0.5 then value_low + (h - floor(h)) * (coalesce(value_high, value_low) - value_low) end) as p50_ms,
        max(case when p = 0.95 then value_low + (h - floor(h)) * (coalesce(value_high, value_low) - value_low) end) as p95_ms,
        max(case when p = 0.99 then value_low + (h - floor(h)) * (coalesce(value_high, value_low) - value_low) end) as p99_ms
    from ranked
    group by grouping_key
    order by grouping_key = 'all', 1
{% endmacro %}
