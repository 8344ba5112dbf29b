"""Tokens and cost per provider (ai_usage_by_provider, `ai-gate cost`): equal to a
recomputation from the raw rows and the price seed in Python, over windows that cut
days and hours (late rows: test_latency.py's late-row test), and what the CLI and the
HTML report print of them."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from datetime import datetime

import pytest
from conftest import ClonedDatabase, Server, cloned_database
from eval_oracle import known_cost, price_table

WINDOWS = ["interval '7 days 3 hours 17 minutes'", "interval '90 days'", "interval '25 minutes'"]


def recomputed(db: ClonedDatabase, start: datetime, end: datetime) -> dict[str, dict]:
    prices = price_table()
    rows = db.execute(
        "select selected_provider, created_at, model, input_tokens, output_tokens, cost_usd,"
        " fallback_used from ai_training_examples"
        " where created_at >= %s and created_at < %s and selected_provider is not null",
        (start, end),
    )
    out: dict[str, dict] = {}
    for provider, at, model, i, o, recorded, fallback in rows:
        cost = known_cost(
            prices,
            {
                "cost_usd": recorded,
                "input_tokens": i,
                "output_tokens": o,
                "selected_provider": provider,
                "model": model,
            },
            at,
        )
        acc = out.setdefault(
            provider,
            {
                "generations": 0,
                "tokens": [],
                "input": 0,
                "output": 0,
                "costs": [],
                "priced": 0,
                "fallbacks": 0,
                "fallback_costs": [],
            },
        )
        acc["generations"] += 1
        if i is not None and o is not None:
            acc["tokens"].append(i + o)
            acc["input"] += i
            acc["output"] += o
        if cost is not None:
            acc["costs"].append(cost)
            acc["priced"] += recorded is None
        if fallback:
            acc["fallbacks"] += 1
            if cost is not None:
                acc["fallback_costs"].append(cost)
    return out


def nearest_rank(values: list[int], p: float) -> float:
    ordered = sorted(values)
    return ordered[math.ceil(p * len(ordered)) - 1]


def assert_usage_matches(db: ClonedDatabase, window: str) -> None:
    end = db.execute("select now()")[0][0]
    start = db.execute(f"select %s::timestamptz - {window}", (end,))[0][0]
    got = {
        row[0]: row
        for row in db.execute("select * from ai_usage_by_provider(%s, %s)", (start, end))
    }
    want = recomputed(db, start, end)
    assert set(got) == set(want), window
    for provider, w in want.items():
        g = got[provider]
        n_tokens = len(w["tokens"])
        assert g[1:3] == (w["generations"], n_tokens), (window, provider)
        assert g[3] == pytest.approx(w["input"] / n_tokens, rel=1e-12)
        assert g[4] == pytest.approx(w["output"] / n_tokens, rel=1e-12)
        # token percentiles from the histograms: within their 1% relative error
        assert g[5] == pytest.approx(nearest_rank(w["tokens"], 0.5), rel=0.01)
        assert g[6] == pytest.approx(nearest_rank(w["tokens"], 0.95), rel=0.01)
        assert g[7:10] == (
            len(w["costs"]),
            w["priced"],
            w["generations"] - len(w["costs"]),
        ), (window, provider)
        assert g[10] == pytest.approx(sum(w["costs"]), rel=1e-9)
        assert g[11] == pytest.approx(sum(w["costs"]) / len(w["costs"]), rel=1e-9)
        assert g[12] == w["fallbacks"]
        if w["fallback_costs"]:
            assert g[13] == pytest.approx(sum(w["fallback_costs"]), rel=1e-9)
        else:  # no fallback with a known cost: no total, not $0
            assert g[13] is None


@pytest.fixture(scope="module")
def rolled_up(server: Server, rolled_up_template: str) -> Iterator[ClonedDatabase]:
    """12 days of generations with usage, rolled up; these tests only read it."""
    with cloned_database(server, rolled_up_template) as db:
        yield db


@pytest.mark.xdist_group("rolled_up")
def test_usage_by_provider_equals_a_recomputation_from_raw_rows(rolled_up: ClonedDatabase) -> None:
    counts = rolled_up.execute(
        "select count(*) filter (where cost_usd is not null),"
        " count(*) filter (where model = 'unpriced-model' and cost_usd is null),"
        " count(*) filter (where input_tokens is null) from ai_training_examples"
    )[0]
    assert all(count > 500 for count in counts)  # recorded, unpriced and tokenless rows
    for window in WINDOWS:
        assert_usage_matches(rolled_up, window)


def usage_rollups_disagree_with_raw(db: ClonedDatabase) -> list[tuple]:
    """The (day, provider) groups of the daily usage rollup whose generations or
    token-carrying generations differ from the raw rows of the hours it rolled up
    (test_latency.py's late-row test calls it after late rows and a refresh)."""
    return db.execute(
        "select d.day, d.selected_provider from ai_usage_daily as d"
        " join (select date_trunc('day', created_at, 'UTC') as day, selected_provider,"
        " count(*) as n, count(input_tokens) as t from ai_training_examples"
        " where created_at < (select max(rolled_up_until) from ai_usage_daily)"
        " group by 1, 2) as r using (day, selected_provider)"
        " where d.generations <> r.n or d.token_generations <> r.t"
    )


@pytest.mark.xdist_group("rolled_up")
def test_cost_command_prints_the_databases_numbers(rolled_up: ClonedDatabase) -> None:
    result = rolled_up.cli("cost", "--since", "90d", "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    rows = rolled_up.execute(
        "select * from ai_usage_by_provider(%s, %s)",
        (document["since"], document["until"]),
    )
    # the JSON's floats carry 12 significant digits
    assert [tuple(row.values()) for row in document["rows"]] == [
        pytest.approx(tuple(row), rel=1e-11) for row in rows
    ]
    text = rolled_up.cli("cost", "--since", "90d")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[1].split("  ")[0] == "provider"
    by_provider = {line.split()[0]: line for line in lines[3:5]}
    for row in rows:  # the providers' rows differ in every column
        line = by_provider[row[0]]
        assert f"{row[1]:,}" in line
        assert f"${row[10]:,.2f}" in line
        assert f"${row[11]:,.6f}" in line
        assert f"{row[9]:,}" in line.split("$")[0]
    unknown = sum(row[9] for row in rows)
    assert lines[5] == (
        f"{unknown:,} generations with no recorded cost and no price for its model "
        "(seed ai_provider_prices): left out of the costs, not counted as free"
    )


@pytest.mark.xdist_group("rolled_up")
def test_the_reports_daily_cost_is_the_function_on_each_day(rolled_up: ClonedDatabase) -> None:
    """The HTML report's cost table holds, day by day and provider by provider, what
    ai_usage_by_provider gives when called on that UTC day alone (costs differ by day
    and provider, so a shifted or merged day shows), and prints those values."""
    from datetime import timedelta

    from ai_gate.formatters import html
    from ai_gate.html_report import read_html_report

    data = read_html_report(rolled_up.database, "prod", timedelta(days=30))
    assert len({row["day"] for row in data.cost_days}) >= 10
    for row in data.cost_days:
        start = max(row["day"], data.since)
        end = min(row["day"] + timedelta(days=1), data.until)
        direct = rolled_up.execute(
            "select generations, cost_generations, unknown_cost_generations, cost_usd,"
            " mean_cost_usd from ai_usage_by_provider(%s, %s) where selected_provider = %s",
            (start, end, row["provider"]),
        )
        # (sums of floats in another order: equal to the last digits)
        assert direct == [
            pytest.approx(
                (
                    row["generations"],
                    row["cost_generations"],
                    row["unknown_cost_generations"],
                    row["cost_usd"],
                    row["mean_cost_usd"],
                ),
                rel=1e-12,
            )
        ], row
    assert len({row["mean_cost_usd"] for row in data.cost_days if row["provider"] == "openai"}) > 1
    section = html.render(data).split('<section id="cost">', 1)[1].split("</section>", 1)[0]
    shown = re.findall(
        r"<tr><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>"
        r"<td>([^<]*)</td><td>([^<]*)</td></tr>",
        section,
    )
    assert shown == [
        (
            f"{row['day']:%Y-%m-%d}",
            row["provider"],
            f"{row['generations']:,}",
            f"{row['unknown_cost_generations']:,}",
            f"${row['cost_usd']:,.2f}",
            f"${row['mean_cost_usd']:.6f}",
        )
        for row in reversed(data.cost_days)
    ]


def test_cost_over_an_empty_window_says_so(built_db: ClonedDatabase) -> None:
    result = built_db.cli("cost", "--since", "7d")
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(
        r"cost \d{4}-\d\d-\d\d \d\d:\d\d to \d{4}-\d\d-\d\d \d\d:\d\d UTC: "
        r"no generations in this window\n",
        result.stdout,
    ), result.stdout
    document = json.loads(built_db.cli("cost", "--json").stdout)
    assert document["rows"] == []
