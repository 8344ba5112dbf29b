{#-
    The additive usage columns of a set of generations (rows of raw_usage_rows, as
    `alias`), aggregated: what every usage rollup and the window function sum.
-#}
{% macro usage_sums(alias, schema) %}
        count(*) as generations,
        count({{ alias }}.total_tokens) as token_generations,
        coalesce(sum({{ alias }}.input_tokens) filter (
            where {{ alias }}.total_tokens is not null
        ), 0)::bigint as input_tokens,
        coalesce(sum({{ alias }}.output_tokens) filter (
            where {{ alias }}.total_tokens is not null
        ), 0)::bigint as output_tokens,
        count({{ alias }}.cost_usd) as cost_generations,
        count(*) filter (
            where {{ schema }}.ai_gate_cost_source(
                {{ alias }}.recorded_cost_usd, {{ alias }}.cost_usd
            ) = 'priced'
        ) as priced_generations,
        coalesce(sum({{ alias }}.cost_usd), 0) as cost_usd,
        count(*) filter (where {{ alias }}.fallback_used) as fallback_generations,
        count({{ alias }}.cost_usd) filter (
            where {{ alias }}.fallback_used
        ) as fallback_cost_generations,
        coalesce(sum({{ alias }}.cost_usd) filter (where {{ alias }}.fallback_used), 0)
            as fallback_cost_usd
{%- endmacro %}
