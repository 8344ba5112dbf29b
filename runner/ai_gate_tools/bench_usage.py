"""The bench's telemetry usage (docs/cost.md): what each loaded generation carries, and
how close ai_usage_by_provider's answers are to the raw table's."""

from __future__ import annotations

import psycopg

# A generation's usage, as the product writes it (docs/cost.md): the provider's model,
# log-normal input and output tokens (medians about 900 and 1,100), and the cost the
# openai calls report (gpt-4o's list price); the custom model's is priced by the seed.
USAGE_COLUMNS = "model, input_tokens, output_tokens, cost_usd"
USAGE_VALUES = (
    " case {p} when 'custom' then 'sitegen-custom-v1' else 'gpt-4o' end,"
    " usage.input_tokens, usage.output_tokens,"
    " case {p} when 'openai' then"
    " (usage.input_tokens * 2.5 + usage.output_tokens * 10) / 1e6 end"
)
USAGE_DRAWS = (
    " cross join lateral (select"
    " greatest(1, exp(6.8 + 0.3 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())"
    " + 0 * i))::int as input_tokens,"
    " greatest(1, exp(7.0 + 0.5 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())"
    " + 0 * i))::int as output_tokens) as usage"
)


def usage_accuracy(conn: psycopg.Connection, schema: str, table: str) -> list[str]:
    """Per provider over 90 days: the function's p95 tokens per generation (from the
    histograms) against percentile_disc over the raw rows, and its total cost against
    the raw rows priced one by one."""
    usage = conn.execute(
        f'select selected_provider, p95_tokens, cost_usd from "{schema}".'
        "ai_usage_by_provider(now() - interval '90 days')"
    ).fetchall()
    exact_usage = {
        row[0]: row[1:]
        for row in conn.execute(
            "select selected_provider, percentile_disc(0.95) within group"
            " (order by input_tokens + output_tokens), sum(coalesce(cost_usd,"
            f' "{schema}".ai_gate_token_price_usd(selected_provider, model,'
            " created_at, input_tokens, output_tokens)))"
            f" from {table} where created_at >= now() - interval '90 days'"
            " group by 1"
        ).fetchall()
    }
    lines = []
    for provider, p95_tokens, cost in usage:
        tokens, exact_cost = exact_usage[provider]
        lines.append(
            f"{provider}: p95 tokens {p95_tokens:,.0f} vs exact {tokens:,} "
            f"({abs(p95_tokens - tokens) / tokens * 100:.2f}% off); cost "
            f"${cost:,.2f} vs ${exact_cost:,.2f}"
        )
    return lines
