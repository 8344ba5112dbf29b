"""The HTML report of a seeded database, opened in a real browser (headless Chromium,
driven by Playwright): it loads from the file alone (no request but the file, no
console error), every section is there, and every chart has drawn data."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import ClonedDatabase

REPO = Path(__file__).resolve().parents[2]
PASSING = REPO / "examples" / "evals" / "passing.jsonl"
FAILING = REPO / "examples" / "evals" / "failing.jsonl"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SECTIONS = ("header", "gates", "flakiness", "latency", "cost", "canary", "audit")
# Chromium as root in a container, and nothing that phones home at start.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def without_fields(source: Path, target: Path, *fields: str) -> Path:
    """`source`'s records without `fields`: their gates have no data in that run."""
    with source.open() as lines, target.open("w") as out:
        for line in lines:
            record = json.loads(line)
            for name in fields:
                record.pop(name, None)
            out.write(json.dumps(record) + "\n")
    return target


def seed(db: ClonedDatabase, folder: Path) -> None:
    """On top of 12 days of rolled-up product telemetry: a passed run, a failed run
    whose other gates passed, a passed run with skipped gates; a canary rollout step,
    a rollback decision (synthetic, a dry run) and a drill."""
    skipping = without_fields(
        PASSING, folder / "skipping.jsonl", "publish_conversion", "edit_after_generate"
    )
    for args, code in (
        (["run", str(PASSING), "--run-id", "release-1"], 0),
        (["run", str(FAILING), "--run-id", "release-2"], 2),
        (["run", str(skipping), "--run-id", "release-3"], 0),
    ):
        assert db.cli(*args).returncode == code
    flags = ["flags", "set", "custom", "--env", "prod", "--weight", "5", "--confirm-traffic"]
    assert db.cli(*flags, "--reason", "canary to 5%", "--actor", "alice").returncode == 0
    for scenario in ("healthy", "safety-regression"):
        simulate = ["simulate", "--scenario", scenario, "--rows", "4000", "--seed", "7"]
        assert db.cli(*simulate).returncode == 0
        evaluated = db.cli("canary", "evaluate", "--env", "prod", "--include-synthetic")
        assert evaluated.returncode in (0, 2, 4), evaluated.stderr
    assert db.cli("drill", "rollback", "--env", "prod").returncode == 0


def test_the_report_needs_a_known_environment(built_db: ClonedDatabase, tmp_path: Path) -> None:
    result = built_db.cli("report", "--html", str(tmp_path / "r.html"), "--env", "produ")
    assert result.returncode == 3
    assert "unknown environment 'produ' (known: prod, staging)" in result.stderr
    assert not (tmp_path / "r.html").exists()


def test_an_empty_window_says_why_each_section_is_empty(
    built_db: ClonedDatabase, tmp_path: Path
) -> None:
    page = tmp_path / "r.html"
    assert built_db.cli("report", "--html", str(page), "--env", "staging").returncode == 0
    text = page.read_text()
    assert "No evaluation runs in staging in the last 30 days" in text
    assert "No latency telemetry in the last 30 days" in text
    assert "No canary decisions in staging in the window" in text
    assert "No flag changes in staging in the window" in text
    assert "No rollback drills in staging in the window" in text
    assert "No run in staging tried a case more than once in the window" in text


@pytest.mark.xdist_group("rolled_up")
def test_the_report_opens_offline_with_every_section_drawn(
    rolled_up_db: ClonedDatabase, tmp_path: Path
) -> None:
    seed(rolled_up_db, tmp_path)
    page_path = tmp_path / "report.html"
    result = rolled_up_db.cli("report", "--html", str(page_path), "--env", "prod", "--since", "30d")
    assert result.returncode == 0, result.stderr
    text = page_path.read_text()
    # nothing to fetch: no script, stylesheet link, or src/href to another place
    assert "<script" not in text and "<link" not in text
    assert not re.search(r"""(src|href)\s*=\s*["'](?!#)""", text)
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (Debian package chromium; .ci/run installs it)")
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            # 1,400 px: the runs table (a column per gate) once ran off the page there
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("request", lambda request: requests.append(request.url))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(page_path.as_uri(), wait_until="load")
            sections = {name: page.locator(f"#{name}").count() for name in SECTIONS}
            # each chart: its name and the number of drawn paths in its SVG
            charts = page.eval_on_selector_all(
                "[data-chart]",
                "nodes => nodes.map(n => [n.dataset.chart, n.querySelectorAll('svg path').length,"
                " n.getBoundingClientRect().height])",
            )
            decisions = page.locator("#canary tbody tr").count()
            runs_table = page.eval_on_selector_all(
                "[data-table=runs] tr",
                "rows => rows.map(r => [...r.children].map(c => c.textContent))",
            )
            latest_table = page.eval_on_selector_all(
                "[data-table=latest-run] tbody tr",
                "rows => rows.map(r => [...r.children].map(c => c.textContent))",
            )
            flakiness_table = page.eval_on_selector_all(
                "[data-table=flakiness] tbody tr",
                "rows => rows.map(r => [...r.children].map(c => c.textContent))",
            )
            changes = page.locator("#audit table").first.locator("tbody tr").count()
            # nothing runs off the page: a wide table scrolls inside its section
            page_width = page.evaluate("document.documentElement.scrollWidth")
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        finally:
            browser.close()
    assert requests == [page_path.as_uri()]
    assert errors == []
    assert page_width <= 1400
    assert sections == dict.fromkeys(SECTIONS, 1)
    names = [chart[0] for chart in charts]
    assert "latency" in names and "canary" in names and "flake-rate" in names
    assert {"gate:schema_valid_rate_min", "gate:fallback_rate_max"} <= set(names)
    for name, paths, height in charts:
        assert paths > 20 and height > 100, (name, paths, height)
    assert decisions == 2
    # Every gate cell of every run says what ai_eval_gate_results says: release-2
    # failed with gates that passed, release-3 passed with gates that were skipped.
    header, *body = runs_table
    gates = header[3:]
    shown = {row[0]: (row[2], dict(zip(gates, row[3:], strict=True))) for row in body}
    stored = {
        run_id: (status.upper(), {})
        for run_id, status in rolled_up_db.execute(
            "select run_id, status from ai_eval_runs where not is_synthetic"
        )
    }
    for run_id, gate, status in rolled_up_db.execute(
        "select run_id, gates.gate, gates.status from ai_eval_gate_results as gates"
        " join ai_eval_runs using (run_id) where not is_synthetic"
    ):
        stored[run_id][1][gate] = status.upper()
    assert shown == stored
    assert shown["release-2"][0] == "FAILED" and "PASSED" in shown["release-2"][1].values()
    assert shown["release-3"][0] == "PASSED" and "SKIPPED" in shown["release-3"][1].values()
    # The latest run's table: each gate's observed value and status, row by row.
    latest = {
        gate: (observed, status)
        for gate, observed, status in rolled_up_db.execute(
            "select gate, observed, upper(status) from ai_eval_gate_results"
            " where run_id = 'release-3'"
        )
    }
    assert {row[0]: row[5] for row in latest_table} == {g: s for g, (_, s) in latest.items()}
    for row in latest_table:
        observed = latest[row[0]][0]
        if observed is None:
            assert row[1] == "n/a"
        else:
            assert float(row[1].replace(",", "")) == pytest.approx(observed, rel=1e-3, abs=1e-4)
    # The flakiness table: each run's repeated and flaky cases, as its stored verdict
    # has them (recounted here from the verdict's cases), newest run first.
    stored_flakiness = []
    for run_id, cases in rolled_up_db.execute(
        "select run_id, verdict -> 'flakiness' from ai_eval_runs where not is_synthetic"
        " order by started_at desc, run_id desc"
    ):
        flaky = sorted(f"{c['case_id']} ({c['provider']})" for c in cases if c["flaky"])
        # at most 12 named, then how many more (release-2 has 13)
        named = ", ".join(flaky[:12]) + (f" and {len(flaky) - 12} more" if len(flaky) > 12 else "")
        stored_flakiness.append(
            [run_id, str(len(cases)), str(len(flaky)), f"{len(flaky) / len(cases):.4f}", named]
        )
    shown_flakiness = [[row[0], row[2], row[3], row[4], row[5]] for row in flakiness_table]
    assert shown_flakiness == stored_flakiness
    assert any(row[4].endswith(" more") for row in shown_flakiness)
    assert len({row[2] for row in stored_flakiness}) > 1  # the runs differ
    assert changes >= 3  # the step, and the drill's rollback and restore
    assert (tmp_path / "report.png").stat().st_size > 50_000


def test_the_traffic_share_line_replays_the_change_log(built_db: ClonedDatabase) -> None:
    """The canary's share before the window's first change (1 of 99 + 1), then after
    each: weight 5 of 104, disabled (0), enabled again at 5 of 104."""
    from datetime import timedelta

    from ai_gate.html_report import read_html_report

    steps = (["--weight", "5"], ["--disable"], ["--enable"])
    for step in steps:
        changed = built_db.cli(
            "flags", "set", "custom", "--env", "prod", *step, "--reason", "t", "--confirm-traffic"
        )
        assert changed.returncode == 0, changed.stderr
    data = read_html_report(built_db.database, "prod", timedelta(days=1))
    shares = [round(share, 6) for _, share in data.traffic_share]
    assert shares == [0.01, round(5 / 104, 6), 0.0, round(5 / 104, 6), round(5 / 104, 6)]


def test_the_report_draws_only_its_canarys_decisions(built_db: ClonedDatabase) -> None:
    """Decisions of two canaries in one environment: the report of the seeded canary
    (custom) lists exactly the decisions the database holds for custom."""
    from datetime import timedelta

    from ai_gate.html_report import read_html_report

    for canary, baseline in (("custom", "openai"), ("openai", "custom"), ("custom", "openai")):
        decided = built_db.cli(
            "canary", "evaluate", "--env", "prod", "--canary", canary, "--baseline", baseline
        )
        assert decided.returncode in (0, 2, 4), decided.stderr
    stored = built_db.execute(
        "select decision_id, canary from ai_canary_decisions order by decision_id"
    )
    assert [canary for _, canary in stored] == ["custom", "openai", "custom"]
    data = read_html_report(built_db.database, "prod", timedelta(days=1))
    assert data.canary == "custom"
    # newest first (the report names the newest of them)
    assert [d["decision_id"] for d in data.decisions] == [
        decision_id for decision_id, canary in reversed(stored) if canary == "custom"
    ]
    assert {d["canary"] for d in data.decisions} == {"custom"}


def test_every_time_axis_spans_the_window_whatever_the_runs(
    built_db: ClonedDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One run, some of its gates without data: each chart's time axis is the report's
    window (not years around the one run, nor 1970), its tick labels carry no offset,
    and the canary share starts at 0 %."""
    from datetime import timedelta

    import matplotlib.dates as mdates

    from ai_gate.formatters import html
    from ai_gate.html_report import read_html_report

    skipping = without_fields(PASSING, tmp_path / "skipping.jsonl", "publish_conversion")
    assert built_db.cli("run", str(skipping), "--run-id", "only-run").returncode == 0
    data = read_html_report(built_db.database, "prod", timedelta(days=30))
    drawn = []
    render_svg = html._svg

    def recording_svg(figure):  # what each chart's axes show, before it is drawn
        figure.canvas.draw()
        for axes in figure.axes:
            drawn.append(
                (
                    axes.get_title(),
                    axes.get_xlim(),
                    axes.get_ylim(),
                    axes.xaxis.get_offset_text().get_text(),
                )
            )
        return render_svg(figure)

    monkeypatch.setattr(html, "_svg", recording_svg)
    html.render(data)
    window = (mdates.date2num(data.since), mdates.date2num(data.until))
    # the gate charts (publish_conversion_proxy_min without data), the flake rate (the
    # records repeat cases), then the canary share (no latency chart: no telemetry)
    flake_rate = "flake rate per UTC day: flaky cases / repeated cases"
    assert [title for title, *_ in drawn] == [
        *sorted({row.gate for row in data.gates}),
        flake_rate,
        "",
    ]
    for title, xlim, _ylim, offset in drawn:
        assert xlim == pytest.approx(window), title
        assert offset == "", title
    assert drawn[-1][2][0] == 0  # the canary share chart: from 0 %
