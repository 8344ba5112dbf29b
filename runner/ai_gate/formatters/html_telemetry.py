"""The HTML report's telemetry sections: daily latency per provider, and cost."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ai_gate.formatters.html_parts import grouped, plt, svg, table, time_axis

if TYPE_CHECKING:
    from ai_gate.html_report import HtmlReportData


def latency_section(data: HtmlReportData) -> str:
    if not data.latency:
        return (
            f'<p class="empty">No latency telemetry in the last '
            f"{(data.until - data.since).days} days.</p>"
        )
    by_provider = grouped(data.latency, "provider")
    figure, axes = plt.subplots(
        1, len(by_provider), figsize=(5 * len(by_provider), 2.6), squeeze=False, sharey=True
    )
    for axis, (provider, rows) in zip(axes[0], sorted(by_provider.items()), strict=True):
        days = [row["day"] for row in rows]
        for key, colour in (("p50_ms", "#90a4ae"), ("p95_ms", "#37474f"), ("p99_ms", "#6a1b9a")):
            axis.plot(
                days,
                [row[key] for row in rows],
                marker="o",
                ms=2.5,
                lw=1,
                color=colour,
                label=key.replace("_ms", ""),
            )
        if data.max_p95_latency_ms is not None:
            axis.axhline(
                data.max_p95_latency_ms, color="#c62828", ls="--", lw=1, label="max p95 (guardrail)"
            )
        axis.set_title(provider, fontsize=9)
        axis.set_ylabel("ms")
        time_axis(axis, data.since, data.until)
        axis.legend(fontsize=6, frameon=False)
    return (
        "<p>p50, p95 and p99 per provider per UTC day, from the latency rollups "
        "(ai_latency_percentiles), with the environment's p95 guardrail.</p>"
        f'<div class="chart" data-chart="latency">{svg(figure)}</div>'
    )


def cost_section(data: HtmlReportData) -> str:
    if not data.cost_days and not data.run_costs:
        return (
            f'<p class="empty">No generation with a known cost in the last '
            f"{(data.until - data.since).days} days.</p>"
        )
    parts = []
    if data.cost_days:
        by_provider = grouped(data.cost_days, "provider")
        figure, axes = plt.subplots(1, 1, figsize=(8, 2.6))
        for provider, rows in sorted(by_provider.items()):
            axes.plot(
                [row["day"] for row in rows],
                [row["mean_cost_usd"] for row in rows],
                marker="o",
                ms=2.5,
                lw=1,
                label=provider,
            )
        axes.set_ylabel("US$ per generation")
        time_axis(axes, data.since, data.until)
        axes.legend(fontsize=6, frameon=False)
        unknown = sum(int(row["unknown_cost_generations"]) for row in data.cost_days)
        rows = [
            [
                f"{row['day']:%Y-%m-%d}",
                str(row["provider"]),
                f"{row['generations']:,}",
                f"{row['unknown_cost_generations']:,}",
                ("n/a" if row["cost_usd"] is None else f"${row['cost_usd']:,.2f}"),
                ("n/a" if row["mean_cost_usd"] is None else f"${row['mean_cost_usd']:.6f}"),
            ]
            for row in reversed(data.cost_days)
        ]
        parts.append(
            "<p>Mean cost per generation per provider per UTC day (ai_usage_by_provider: "
            "the cost each generation recorded, else its tokens at the seed "
            "ai_provider_prices); generations with neither are counted as unknown, never "
            f"as free ({unknown:,} in this window).</p>"
            f'<div class="chart" data-chart="cost">{svg(figure)}</div>'
            + table(
                ["day", "provider", "generations", "unknown cost", "total", "per generation"],
                rows,
            )
        )
    if data.run_costs:
        parts.append(
            "<p>Cost per passing attempt of the named runs (their total known cost over "
            "their passing attempts with a known cost), oldest first.</p>"
            + table(
                ["run", "started", "samples with a cost", "mean cost", "cost per pass"],
                [
                    [
                        str(row["run_id"]),
                        f"{row['started_at']:%Y-%m-%d %H:%M}",
                        f"{row['costed']:,}",
                        f"${row['mean_cost_usd']:.6f}",
                        (
                            "n/a (no pass)"
                            if row["cost_per_pass_usd"] is None
                            else f"${row['cost_per_pass_usd']:.6f}"
                        ),
                    ]
                    for row in data.run_costs
                ],
            )
        )
    return "".join(parts)
