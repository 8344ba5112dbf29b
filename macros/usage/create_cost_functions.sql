{#-
    Creates the price functions, the one home of how a generation's cost is known
    (the post-hook of the seed ai_provider_prices, which they read):

    - ai_gate_token_price_usd(provider, model, at, input_tokens, output_tokens): the
      tokens at the price in force at `at` (the provider and model's row, else the
      provider's `*` row, with the latest effective_from at or before it); null when
      there is none.
    - ai_gate_cost_usd(recorded, provider, model, at, input_tokens, output_tokens): the
      recorded cost, else the tokens priced (both counts known: half a usage is no
      cost), else null (unknown, never 0). Plain SQL without a subquery, so the
      planner inlines it and a row with a recorded cost never calls the price.
    - ai_gate_cost_source(recorded, cost): `recorded`, `priced` or `unknown`.

    Read by ingest (ai_eval_samples.cost_usd and cost_source) and by the telemetry
    (ai_routing_telemetry, the usage rollups); docs/cost.md.
-#}
{% macro create_cost_functions() %}
{#- Function bodies are text, resolved when they run: name the relation without the
    database, so a database cloned from this one (CREATE DATABASE ... TEMPLATE) works. -#}
{%- set prices = this.include(database=false) -%}
create or replace function {{ this.schema }}.ai_gate_token_price_usd(
    of_provider text,
    of_model text,
    at_time timestamptz,
    input_tokens bigint,
    output_tokens bigint
)
returns double precision
language sql
stable
as $ai_gate$
    select
        (
            input_tokens * prices.usd_per_million_input_tokens
            + output_tokens * prices.usd_per_million_output_tokens
        ) / 1000000.0
    from {{ prices }} as prices
    where
        prices.provider = of_provider
        and (prices.model = of_model or prices.model = '*')
        and prices.effective_from <= at_time
    order by prices.model = '*', prices.effective_from desc
    limit 1
$ai_gate$;

create or replace function {{ this.schema }}.ai_gate_cost_usd(
    recorded_cost_usd double precision,
    of_provider text,
    of_model text,
    at_time timestamptz,
    input_tokens bigint,
    output_tokens bigint
)
returns double precision
language sql
stable
as $ai_gate$
    select coalesce(
        recorded_cost_usd,
        case
            when input_tokens is not null and output_tokens is not null
                then {{ this.schema }}.ai_gate_token_price_usd(
                    of_provider, of_model, at_time, input_tokens, output_tokens
                )
        end
    )
$ai_gate$;

create or replace function {{ this.schema }}.ai_gate_cost_source(
    recorded_cost_usd double precision,
    cost_usd double precision
)
returns text
language sql
immutable
as $ai_gate$
    select
        case
            when recorded_cost_usd is not null then 'recorded'
            when cost_usd is not null then 'priced'
            else 'unknown'
        end
$ai_gate$;

{% for signature in [
    'ai_gate_token_price_usd(text, text, timestamptz, bigint, bigint)',
    'ai_gate_cost_usd(double precision, text, text, timestamptz, bigint, bigint)',
    'ai_gate_cost_source(double precision, double precision)',
] %}
revoke all on function {{ this.schema }}.{{ signature }} from public;
{{ revoke_api_role_privileges(this.schema ~ '.' ~ signature, 'function') }}
{% endfor %}
{% endmacro %}
