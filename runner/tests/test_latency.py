"""Latency percentiles: histogram path within 1% of percentile_cont, exact path exact,
fresh rows included without a refresh, late rows taken in by the next refresh."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from conftest import ClonedDatabase, Server, cloned_database, refresh
from test_usage import assert_usage_matches, usage_rollups_disagree_with_raw

WINDOWS = [
    "interval '7 days 3 hours 17 minutes'",
    "interval '11 days'",
    "interval '90 days'",
    "interval '5 hours 40 minutes'",
    "interval '25 minutes'",
]
EXACT = (
    "select selected_provider, count(*), percentile_cont(0.5) within group (order by latency_ms),"
    " percentile_cont(0.95) within group (order by latency_ms),"
    " percentile_cont(0.99) within group (order by latency_ms)"
    " from ai_training_examples where created_at >= %s and created_at < %s"
    " and selected_provider is not null and latency_ms is not null"
    " group by rollup (selected_provider)"
)


def compare(db: ClonedDatabase, window: str, function: str) -> list[tuple]:
    with db.database.connect() as conn:
        end = conn.execute("select now()").fetchone()[0]
        start = conn.execute(f"select %s::timestamptz - {window}", (end,)).fetchone()[0]
        got = conn.execute(f"select * from {function}(%s, %s)", (start, end)).fetchall()
        want = conn.execute(EXACT, (start, end)).fetchall()
    key = {row[0]: row for row in want}
    assert {row[0] for row in got} == set(key)
    return [(row, key[row[0]]) for row in got]


@pytest.fixture(scope="module")
def rolled_up(server: Server, rolled_up_template: str) -> Iterator[ClonedDatabase]:
    """12 days of generations, rolled up; the window tests only read it."""
    with cloned_database(server, rolled_up_template) as db:
        yield db


@pytest.mark.xdist_group("rolled_up")
@pytest.mark.parametrize("window", WINDOWS)
def test_histogram_path_is_within_one_percent(rolled_up: ClonedDatabase, window: str) -> None:
    for got, want in compare(rolled_up, window, "ai_latency_percentiles"):
        assert got[1] == want[1]  # request counts are exact
        for index in (2, 3, 4):
            assert got[index] == pytest.approx(want[index], rel=0.01), (window, got, want)


@pytest.mark.xdist_group("rolled_up")
@pytest.mark.parametrize("window", WINDOWS)
def test_exact_path_equals_percentile_cont(rolled_up: ClonedDatabase, window: str) -> None:
    for got, want in compare(rolled_up, window, "ai_latency_percentiles_exact"):
        assert got[1] == want[1]
        for index in (2, 3, 4):
            assert got[index] == pytest.approx(want[index], rel=1e-9, abs=1e-9)


@pytest.mark.xdist_group("rolled_up")
def test_rows_newer_than_the_refresh_are_included(rolled_up_db: ClonedDatabase) -> None:
    # Arrive after the refresh, in the current hour: read from the raw tail.
    rolled_up_db.execute(
        "insert into ai_training_examples (created_at, selected_provider, latency_ms)"
        " select now() - interval '1 second', 'custom', 900000 from generate_series(1, 500)"
    )
    for function in ("ai_latency_percentiles", "ai_latency_percentiles_exact"):
        for got, want in compare(rolled_up_db, "interval '2 days'", function):
            assert got[1] == want[1]
            assert got[4] == pytest.approx(want[4], rel=0.01)


@pytest.mark.xdist_group("rolled_up")
def test_late_rows_are_taken_in_by_the_next_refresh(rolled_up_db: ClonedDatabase) -> None:
    # (with usage: the usage rollups take them in by the same rule, test_usage.py)
    late = (
        "insert into ai_training_examples (created_at, selected_provider, latency_ms,"
        " model, input_tokens, output_tokens)"
        " select date_trunc('hour', now()) - interval '5 hours' + interval '10 minutes',"
        " 'custom', 700000, 'sitegen-custom-v1', 1000 + g, 5000 from generate_series(1, 300) g"
    )
    rolled_up_db.execute(late)
    # Until the next refresh the rolled-up hour does not show them (documented lag).
    # One window start for both counts: a moving one would lose rows at its edge.
    since = rolled_up_db.execute("select now() - interval '1 day'")[0][0]
    before = dict(
        rolled_up_db.execute(
            "select selected_provider, requests from ai_latency_percentiles(%s)", (since,)
        )
    )
    refresh(rolled_up_db)
    for function in ("ai_latency_percentiles", "ai_latency_percentiles_exact"):
        for got, want in compare(rolled_up_db, "interval '1 day'", function):
            assert got[1] == want[1]
            assert got[4] == pytest.approx(want[4], rel=0.01)
    assert (
        before["custom"] + 300
        == rolled_up_db.execute(
            "select requests from ai_latency_percentiles(%s) where selected_provider = 'custom'",
            (since,),
        )[0][0]
    )
    # Rolled-up counts equal raw counts for every rolled-up hour: nothing double-counted.
    mismatched = rolled_up_db.execute(
        "select h.hour_start from (select hour_start, selected_provider, sum(requests) n"
        " from ai_latency_hourly_histogram group by 1, 2) h"
        " join (select date_trunc('hour', created_at, 'UTC') hour_start, selected_provider,"
        " count(*) n from ai_training_examples group by 1, 2) r using (hour_start,"
        " selected_provider) where h.n <> r.n"
    )
    assert mismatched == []
    # ... and every rollup built on it agrees: the daily histogram per (day, provider),
    # the prefix sums per stored day (late rows in the same hour as the previous
    # refresh reach both through `refreshed_at`).
    assert rollups_disagree_with_raw(rolled_up_db) == []
    assert_usage_matches(rolled_up_db, "interval '3 days'")
    assert usage_rollups_disagree_with_raw(rolled_up_db) == []
    for got, want in compare(rolled_up_db, "interval '3 days'", "ai_latency_percentiles_exact"):
        assert got[1] == want[1]
        assert got[4] == pytest.approx(want[4], rel=1e-9, abs=1e-9)


def rollups_disagree_with_raw(db: ClonedDatabase) -> list[tuple]:
    daily = db.execute(
        "select d.day, d.selected_provider from (select day, selected_provider,"
        " sum(requests) n from ai_latency_daily_histogram group by 1, 2) d"
        " full join (select date_trunc('day', created_at, 'UTC') as day, selected_provider,"
        " count(*) n from ai_training_examples where created_at < ("
        " select max(rolled_up_until) from ai_latency_daily_histogram) group by 1, 2) r"
        " using (day, selected_provider) where d.n is distinct from r.n"
    )
    cumulative = db.execute(
        "select c.day, c.selected_provider, c.bucket from ai_latency_cumulative_histogram c"
        " where c.requests_before <> (select sum(d.requests) from ai_latency_daily_histogram d"
        " where d.day < c.day and d.selected_provider = c.selected_provider"
        " and d.bucket = c.bucket)"
    )
    return daily + cumulative


@pytest.mark.xdist_group("rolled_up")
def test_exact_path_stays_exact_when_only_the_hourly_rollup_is_refreshed(
    rolled_up_db: ClonedDatabase,
) -> None:
    # Late rows on yesterday, a whole day in the daily rollups (a 72-hour lookback
    # reaches them at any time of day).
    rolled_up_db.execute(
        "insert into ai_training_examples (created_at, selected_provider, latency_ms)"
        " select date_trunc('day', now(), 'UTC') - interval '14 hours' + interval '7 minutes',"
        " 'openai', 1000 + i from generate_series(1, 400) as i"
    )
    result = rolled_up_db.cli(
        "build",
        "--select",
        "ai_latency_hourly_histogram",
        "--vars",
        "{latency_rollup_lookback_hours: 72}",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # The daily rollups now lag the hourly one; the exact path notices and counts
    # whole days from the hourly rows, so it stays exact.
    for window in ("interval '3 days'", "interval '4 days'"):
        for got, want in compare(rolled_up_db, window, "ai_latency_percentiles_exact"):
            assert got[1] == want[1]
            for index in (2, 3, 4):
                assert got[index] == pytest.approx(want[index], rel=1e-9, abs=1e-9)


@pytest.mark.xdist_group("rolled_up")
def test_latency_command(rolled_up_db: ClonedDatabase) -> None:
    text = rolled_up_db.cli("latency", "--since", "7d")
    assert text.returncode == 0, text.stderr
    assert "(all)" in text.stdout and "openai" in text.stdout
    exact = rolled_up_db.cli("latency", "--since", "90d", "--exact", "--json")
    payload = json.loads(exact.stdout)
    assert payload["exact"] is True
    overall = next(row for row in payload["rows"] if row["selected_provider"] is None)
    assert overall["requests"] == 60_000
    assert rolled_up_db.cli("latency", "--since", "soon").returncode == 64


def test_api_roles_cannot_call_the_latency_functions(built_db: ClonedDatabase) -> None:
    functions = built_db.execute(
        "select p.oid::regprocedure::text from pg_proc as p"
        " where p.pronamespace = 'public'::regnamespace and p.proname like 'ai_latency_%%'"
        " order by 1"
    )
    assert [name for (name,) in functions] == [
        "ai_latency_histogram(timestamp with time zone,timestamp with time zone)",
        "ai_latency_percentiles(timestamp with time zone,timestamp with time zone)",
        "ai_latency_percentiles_exact(timestamp with time zone,timestamp with time zone)",
        "ai_latency_window_bounds(timestamp with time zone,timestamp with time zone,"
        "timestamp with time zone,timestamp with time zone)",
    ]
    for role in ("anon", "authenticated", "public"):
        allowed = built_db.execute(
            "select p.proname from pg_proc as p"
            " where p.pronamespace = 'public'::regnamespace and p.proname like 'ai_latency_%%'"
            " and has_function_privilege(%s, p.oid, 'execute')",
            (role,),
        )
        assert allowed == [], role


def test_an_empty_window_says_so(built_db: ClonedDatabase) -> None:
    result = built_db.cli("latency", "--since", "1h")
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(
        r"latency \d{4}-\d\d-\d\d \d\d:\d\d to \d{4}-\d\d-\d\d \d\d:\d\d UTC: "
        r"no generations with a latency in this window\n",
        result.stdout,
    ), result.stdout


@pytest.mark.xdist_group("rolled_up")
def test_the_reports_daily_latency_is_the_function_on_each_day(
    rolled_up_db: ClonedDatabase,
) -> None:
    """The report's latency chart (one statement for every day of its window) holds,
    day by day and provider by provider, what ai_latency_percentiles gives when called
    on that UTC day alone; the days differ from one another, so a shifted or merged
    day would show."""
    from datetime import timedelta

    from ai_gate.html_report import read_html_report

    data = read_html_report(rolled_up_db.database, "prod", timedelta(days=30))
    assert len({row["day"] for row in data.latency}) >= 10
    for row in data.latency:
        start = max(row["day"], data.since)
        end = min(row["day"] + timedelta(days=1), data.until)
        direct = rolled_up_db.execute(
            "select requests, p50_ms, p95_ms, p99_ms from ai_latency_percentiles(%s, %s)"
            " where selected_provider = %s",
            (start, end, row["provider"]),
        )
        assert direct == [(row["requests"], row["p50_ms"], row["p95_ms"], row["p99_ms"])], row
    p95_by_day = [row["p95_ms"] for row in data.latency if row["provider"] == "openai"]
    assert len(set(p95_by_day)) > 1
