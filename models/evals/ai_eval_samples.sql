{{
    config(
        materialized='incremental',
        full_refresh=false,
        on_schema_change='append_new_columns',
        pre_hook=["{{ eval_samples_from_partitions(ref('ai_eval_runs')) }}"],
        post_hook=[
            "{{ append_only_guard('Samples belong to their run: ingest a new run instead (ai-gate run FILE).') }}",
            "{{ eval_samples_run_is_open(ref('ai_eval_runs')) }}",
        ],
    )
}}

-- One row per evaluation record, written by `ai-gate run` in the same transaction
-- as its run (docs/eval-records.md). One plain table (ADR 0003): primary key
-- (run_id, sample_id), a foreign key to ai_eval_runs, append-only, never dropped
-- by dbt.

select
    cast(null as text) as run_id,
    cast(null as text) as sample_id,
    cast(null as integer) as line_number,
    cast(null as text) as case_id,
    {#- the rate metrics' record fields (var eval_metrics), the required ones first #}
    {%- for required in [true, false] %}
        {%- for metric in var('eval_metrics') %}
            {%- if metric['kind'] == 'rate' and (metric.get('required') or false) == required %}
                cast(null as boolean) as {{ metric['field'] }},
            {%- endif %}
        {%- endfor %}
    {%- endfor %}
    {#- the quantile metrics' record fields (latency_ms) #}
    {%- for metric in var('eval_metrics') if metric['kind'] == 'quantile' %}
        cast(null as double precision) as {{ metric['field'] }},
    {%- endfor %}
    cast(null as text) as requested_provider,
    cast(null as text) as selected_provider,
    cast(null as text) as route_strategy,
    cast(null as text) as prompt_template_version,
    cast(null as timestamptz) as created_at,
    cast(null as jsonb) as metadata,
    {#- the usage amounts (kind mean): appended, as a build adds them to a table
        made before them; cost_usd is the recorded cost, else the priced one #}
    {%- for metric in var('eval_metrics') if metric['kind'] == 'mean' %}
        cast(null as {{ 'bigint' if metric.get('type') == 'integer' else 'double precision' }})
            as {{ metric['field'] }},
    {%- endfor %}
    cast(null as text) as model,
    cast(null as text) as cost_source
where false
