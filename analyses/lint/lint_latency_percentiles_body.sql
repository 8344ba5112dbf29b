{#- The body of the SQL function ai_latency_percentiles as a query, nested as deep
    as there (sqlfluff reads a function body as a string); a stand-in for the
    histogram it reads. -#}
select percentiles.*
from (
    with
    parts as (
        select
            'openai' as grp,
            1 as bucket,
            1 as n
    ),

    rank_buckets as (
        {{ latency_rank_buckets('parts') }}
    ),

    valued as (
        select
            rank_buckets.*,
            {{ latency_histogram_value('rank_buckets.bucket') }} as value
        from rank_buckets
    )

    {{ latency_percentile_columns('valued') }}
) as percentiles
