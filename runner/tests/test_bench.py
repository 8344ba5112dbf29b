"""The benchmark works end to end at a small size (its numbers are not asserted)."""

from __future__ import annotations

from pathlib import Path

from conftest import ClonedDatabase, clean_environ, run_cli


def test_bench_runs_at_a_small_size(built_db: ClonedDatabase, tmp_path: Path) -> None:
    document = tmp_path / "benchmarks.md"
    document.write_text("# Benchmarks\n\n<!-- bench:results -->\nold\n<!-- /bench:results -->\n")
    result = built_db.cli(
        "bench",
        "--rows",
        "2000",
        "--runs",
        "1",
        "--ingest-samples",
        "1000",
        "--write-doc",
        str(document),
    )
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    for text in (
        "baseline: percentile_cont over raw, checklist indexes, 90 d",
        "ai_latency_percentiles, 90 d",
        "ai_latency_percentiles_exact, 90 d",
        "ai_usage_by_provider (tokens, cost), 90 d",
        "p95 tokens",
        "incremental refresh, one new day, vacuumed: SQL statements",
        "incremental refresh, one new day, not yet vacuumed: SQL statements",
        "incremental refresh, late rows",
        "Accuracy at 2,000 rows",
        "Eval ingest, sample ids in key order (`s0000000`, `s0000001`, ...): 1,000 samples",
        "Eval ingest, sample ids numbered without padding (`b0`, `b1`, ...; `b10` sorts "
        "before `b2`): 1,000 samples",
        "Eval ingest, random sample ids (UUIDs): 1,000 samples",
        "PostgreSQL ",
    ):
        assert text in result.stdout
    written = document.read_text()
    assert "old" not in written and "ai_latency_percentiles, 7 d" in written
    assert written.startswith("# Benchmarks\n")


def test_bench_refuses_tiny_sizes(built_db: ClonedDatabase) -> None:
    assert built_db.cli("bench", "--rows", "10").returncode == 64


def test_calibration_runs_the_real_rules_at_a_small_trial_count(tmp_path: Path) -> None:
    """The calibration benchmark end to end through the CLI (no database), writing its
    section of a document; a handful of trials, so it proves the wiring, not the rates
    (docs/benchmarks.md has the full run). One trial: still about 15 s, the exact
    boundary probabilities and 14-day rollouts cost that much."""
    document = tmp_path / "doc.md"
    document.write_text(
        "before\n<!-- bench:calibration -->\nold\n<!-- /bench:calibration -->\nafter\n"
    )
    result = run_cli(
        ["bench", "--calibration", "--trials", "1", "--seed", "3", "--write-doc", str(document)],
        clean_environ(),
    )
    assert result.returncode == 0, result.stderr
    text = document.read_text()
    assert text.startswith("before\n<!-- bench:calibration -->\nCalibration (")
    assert text.endswith("<!-- /bench:calibration -->\nafter\n")
    tables = [
        [row.strip("|").split("|") for row in block.splitlines() if row.startswith("| ")]
        for block in result.stdout.split("\n\n")
    ]
    tables = [table for table in tables if table]
    assert [(table[0][0].strip(), len(table) - 1) for table in tables] == [
        ("what", 30),  # false rollback/hold, go, detection, the release gate (ADR 0004)
        # time to go, held, false hold at 3 shares; the exact boundary; the cost
        # guardrail's false hold, hold of 2x and go at half the cost at 3 shares
        ("what", 39),
        ("guardrail", 6),  # rows to ok beside the fixed-sample optimum
    ]
    decision_rules, speed, per_rule = (table[1:] for table in tables)
    # every figure there; the first build has no exact boundary row (blank)
    assert all(cell.strip() for row in decision_rules + per_rule for cell in row[2:])
    assert all(row[-1].strip() for row in speed)
