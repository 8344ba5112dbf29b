{#-
    A query that finds, from a relation of (grp, bucket, n) rows — n generations of
    group grp in histogram bucket `bucket` — the bucket holding each rank
    percentile_cont needs, per group and for all groups together (grp null). The
    latency functions name it `rank_buckets`.

    percentile_cont(p) interpolates linearly between the values at 0-based ranks
    floor(h) and floor(h) + 1, h = p * (total - 1). One row per (grouping_key, p, side)
    with side 0 for rank floor(h) and 1 for floor(h) + 1 (capped at the last rank):
    grp, total, h, the rank, the bucket that holds it and `below`, the count in lower
    buckets (so the wanted value is at rank `rank - below` inside the bucket). Merging
    is one pass; no raw row is sorted.
-#}
{% macro latency_rank_buckets(relation) %}
        with

        merged as (
            select
                grp,
                bucket,
                sum(n)::bigint as n
            from {{ relation }}
            group by grouping sets ((grp, bucket), (bucket))
        ),

        cumulative as (
            select
                grp,
                bucket,
                n,
                -- the overall row has grp null; the key tells it from a null provider
                coalesce('p:' || grp, 'all') as grouping_key,
                sum(n) over (
                    partition by coalesce('p:' || grp, 'all') order by bucket
                    rows unbounded preceding
                ) as up_to,
                sum(n) over (partition by coalesce('p:' || grp, 'all')) as total
            from merged
        ),

        wanted_ranks as (
            select
                totals.grouping_key,
                totals.grp,
                totals.total,
                fractions.p,
                sides.side,
                fractions.p * (totals.total - 1) as h,
                least(
                    floor(fractions.p * (totals.total - 1)) + sides.side, totals.total - 1
                )::bigint as rank
            from (
                select distinct
                    grouping_key,
                    grp,
                    total
                from cumulative
            ) as totals
            cross join (values (0.5::float8), (0.95::float8), (0.99::float8)) as fractions (p)
            cross join (values (0), (1)) as sides (side)
        )

        select
            wanted_ranks.*,
            cumulative.bucket,
            cumulative.up_to - cumulative.n as below
        from wanted_ranks
        inner join cumulative
            on
                wanted_ranks.grouping_key = cumulative.grouping_key
                and wanted_ranks.rank >= cumulative.up_to - cumulative.n
                and wanted_ranks.rank < cumulative.up_to
{%- endmacro %}
