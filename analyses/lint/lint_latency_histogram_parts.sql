{#- The queries inside the PL/pgSQL latency functions (sqlfluff reads a function body
    as a string), nested as deep as there; the window bounds (hours_from, ...) are
    the functions' PL/pgSQL variables. -#}
select
    parts.selected_provider,
    parts.bucket,
    parts.requests
from (
    select
        hours.selected_provider,
        hours.bucket,
        hours.requests
    from (
        {{ latency_edge_hour_counts(ref('ai_latency_hourly_histogram')) }}
    ) as hours
    union all
    select
        raw_rows.selected_provider,
        {{ latency_histogram_bucket('raw_rows.latency_ms') }} as bucket,
        count(*) as requests
    from (
        select
            edges.selected_provider,
            edges.latency_ms
        from (
            {{ latency_raw_edges(ref('stg_product__ai_training_examples')) }}
        ) as edges
    ) as raw_rows
    group by raw_rows.selected_provider, bucket
) as parts
