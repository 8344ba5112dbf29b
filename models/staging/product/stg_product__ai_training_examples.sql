-- The one reader of the product's ai_training_examples: the columns ai-gate reads,
-- named and typed as ai-gate means them. The product's own `id` (uuid, int8 identity,
-- bigserial: the product decides) is read as text; its other columns are not read.
--
-- One select with no CTE, against the import-CTE idiom: PostgreSQL pulls a view up
-- into the query that reads it only when the view has no WITH list. Pulled up, the
-- latency functions' provider probes (`order by selected_provider limit 1`) and
-- window ranges are index scans of the product's covering index; behind a CTE each
-- probe sorted the whole table (docs/benchmarks.md; test_latency_plan_shape.py).

select
    cast(id as text) as generation_id,
    created_at,
    request_id,
    requested_provider,
    selected_provider,
    route_strategy,
    fallback_provider,
    fallback_used,
    latency_ms,
    prompt_template_version,
    model,
    cast(input_tokens as bigint) as input_tokens,
    cast(output_tokens as bigint) as output_tokens,
    -- the cost the product recorded (null: not reported; ai_routing_telemetry prices
    -- the tokens of a row without one)
    cost_usd as recorded_cost_usd
from {{ source('product', 'ai_training_examples') }}
