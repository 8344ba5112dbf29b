"""ai-gate as its users operate it (issue 29), each numbered case through the CLI (or
dbt) on a real PostgreSQL: an analyst's partial or failed build, an on-call flag change,
offline runs in prod, clear failures below the minimum, tool files of real size."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ClonedDatabase

from ai_gate_tools.bench_files import promptfoo_results

REPO = Path(__file__).resolve().parents[2]
PASSING = REPO / "examples" / "evals" / "passing.jsonl"
FAILING = REPO / "examples" / "evals" / "failing.jsonl"
# What `ai-gate run` and `ai-gate flags` read, which no build may leave missing.
READ_BY_COMMANDS = (
    "ai_provider_configs",
    "ai_eval_run_judgement",
    "ai_eval_gate_results",
    "ai_eval_run_summary_v2",
    "ai_eval_metrics",
    "ai_routing_telemetry",
)


def missing_relations(db: ClonedDatabase) -> list[str]:
    return [
        name
        for name in READ_BY_COMMANDS
        if db.execute("select to_regclass(%s)", (f"public.{name}",))[0][0] is None
    ]


def verdict(db: ClonedDatabase, path: Path, tmp_path: Path) -> tuple[int, list[dict]]:
    """`ai-gate run` on a file: its exit code and its gates as the JSON report has them."""
    report = tmp_path / f"{db.name}-{path.stem}.json"
    result = db.cli("run", str(path), "--env", "prod", "--report-json", str(report))
    assert result.returncode in (0, 2, 4), result.stdout + result.stderr
    return result.returncode, json.loads(report.read_text())["gates"]


# 1 -------------------------------------------------------------------------------------


def test_an_analysts_partial_builds_keep_the_gate_judging(
    built_db_factory: Callable[[], ClonedDatabase], tmp_path: Path
) -> None:
    """Every model and seed the gate view reads, selected without it (once through
    ai-gate, once through plain dbt), then `run`: the same verdict as on an untouched
    build. dbt's view materialization dropped ai_eval_gate_results (CASCADE) when
    ai_eval_metrics or the summary was rebuilt without it, and `run` then aborted."""
    pristine, analyst = built_db_factory(), built_db_factory()
    expected = verdict(pristine, FAILING, tmp_path)
    assert expected[0] == 2 and any(gate["status"] == "failed" for gate in expected[1])

    selected = analyst.cli(
        "build",
        "--select",
        "ai_eval_runs",
        "ai_eval_samples",
        "ai_eval_metrics",
        "ai_eval_run_summary",
        "ai_eval_gate_definitions",
    )
    assert selected.returncode == 0, selected.stdout + selected.stderr
    through_dbt = analyst.cli("exec", "--", "dbt", "build", "--select", "ai_eval_run_summary_v2")
    assert through_dbt.returncode == 0
    assert missing_relations(analyst) == []
    assert verdict(analyst, FAILING, tmp_path) == expected


def test_a_failed_build_leaves_every_view_a_command_reads(
    built_db_factory: Callable[[], ClonedDatabase], tmp_path: Path
) -> None:
    """A build that fails (a run without samples fails a test of ai_eval_runs, so the
    summaries and the gate view are skipped) after rebuilding ai_eval_metrics and
    reloading the seeds with --full-refresh: the gate view and the routing view the
    product reads are still there, and `run` and `flags` work."""
    pristine, db = built_db_factory(), built_db_factory()
    expected = verdict(pristine, FAILING, tmp_path)
    db.execute(
        "insert into ai_eval_runs (run_id, run_type, environment, triggered_by, thresholds,"
        " strict, is_synthetic, status, started_at, source_file, source_sha256, metadata)"
        " values ('no-samples', 'offline', 'prod', 'test', '{}', false, false, 'running',"
        " now(), 'x.jsonl', repeat('a', 64), '{}')"
    )
    failed = db.cli(
        "build",
        "--full-refresh",
        "--select",
        "ai_eval_runs",
        "ai_eval_metrics",
        "ai_eval_gate_definitions",
        "ai_provider_config_defaults",
        "ai_eval_run_summary",
    )
    assert failed.returncode == 1
    assert "FAIL     test.ai_gate.every_eval_run_has_samples" in failed.stderr
    assert missing_relations(db) == []
    flags = db.cli("flags", "--env", "prod", "--json")
    assert flags.returncode == 0 and len(json.loads(flags.stdout)) == 2
    assert verdict(db, FAILING, tmp_path) == expected


def test_a_view_whose_columns_change_keeps_the_views_that_read_it(
    built_db: ClonedDatabase,
) -> None:
    """When a view's columns change (not only extend), it cannot be replaced in place:
    the views that read it, the project's and a user's own (with its grant and
    comment), are created again in the same transaction. One that reads a column that
    is gone makes the build refuse, naming it, with nothing changed."""
    # the database's summary as an older version with another first column
    built_db.execute(
        """
        do $setup$
        declare
            judgement_view text := pg_get_viewdef('ai_eval_run_judgement'::regclass);
            gate_view text := pg_get_viewdef('ai_eval_gate_results'::regclass);
            summary_view text := rtrim(pg_get_viewdef('ai_eval_run_summary_v2'::regclass), ';');
        begin
            drop view ai_eval_run_summary_v2 cascade;
            execute 'create view ai_eval_run_summary_v2 with (security_invoker = true) as'
                || ' select 1 as retired, summary.* from (' || summary_view || ') as summary';
            execute 'create view ai_eval_run_judgement with (security_invoker = true) as '
                || judgement_view;
            execute 'create view ai_eval_gate_results with (security_invoker = true) as '
                || gate_view;
            create view my_gate_report as
                select run_id, count(*) as gates from ai_eval_gate_results group by run_id;
            comment on view my_gate_report is 'the analyst''s own';
            if not exists (select from pg_roles where rolname = 'ai_gate_reporter') then
                create role ai_gate_reporter;
            end if;
            grant select on my_gate_report to ai_gate_reporter;
            create view reads_retired as select retired from ai_eval_run_summary_v2;
        end
        $setup$
        """
    )
    refused = built_db.cli("build", "--select", "ai_eval_run_summary")
    assert refused.returncode == 1
    # PostgreSQL 15 names the column with its relation, 18 alone
    assert re.search(
        r'replacing "public"\."ai_eval_run_summary_v2" drops the view public\.reads_retired, '
        r"which cannot be created again over its new columns \(column "
        r'(ai_eval_run_summary_v2\.retired|"retired") does not exist\)',
        refused.stderr,
    )
    assert "It is no model of this project: change or drop it, then build again" in (refused.stderr)
    retired = built_db.execute(
        "select count(*) from information_schema.columns"
        " where table_name = 'ai_eval_run_summary_v2' and column_name = 'retired'"
    )
    assert retired == [(1,)]  # nothing changed

    built_db.execute("drop view reads_retired")
    rebuilt = built_db.cli("build", "--select", "ai_eval_run_summary")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert missing_relations(built_db) == []
    assert built_db.execute(
        "select obj_description('my_gate_report'::regclass),"
        " has_table_privilege('ai_gate_reporter', 'my_gate_report', 'select'),"
        " has_table_privilege('ai_gate_reporter', 'ai_eval_gate_results', 'select')"
    ) == [("the analyst's own", True, False)]


# 2 -------------------------------------------------------------------------------------


def change_count(db: ClonedDatabase) -> int:
    return db.execute("select count(*) from ai_provider_config_changes")[0][0]


def test_one_flag_change_cannot_send_prod_to_the_canary_unacknowledged(
    built_db: ClonedDatabase,
) -> None:
    """Setting the default's weight to 0 sent all of prod to the canary (1% of its plan)
    with exit 0. Now it is refused with nothing written, the refusal names what it would
    do and the command that does it; with --confirm-traffic it is recorded, and the log
    says it was acknowledged. Every change says what it does to the shares."""
    refused = built_db.cli(
        "flags", "set", "openai", "--env", "prod", "--weight", "0", "--reason", "x"
    )
    assert refused.returncode == 3
    assert refused.stderr.splitlines()[1:] == [
        "ai-gate: change refused: it moves traffic toward the canary without "
        "--confirm-traffic (prod traffic: openai 99.0% -> 0.0%, custom 1.0% -> 100.0%); "
        "nothing was written",
        "  it raises the canary custom's share of prod from 1.0% to 100.0% outside "
        "`ai-gate canary step` (which moves it to the rollout plan's next share after a go "
        "decision)",
        "  custom, which is not the default, would serve 100.0% of prod",
        "  if that is what you mean: ai-gate flags set openai --env prod --weight 0 --reason x "
        "--confirm-traffic (the acknowledgement is recorded in the audit log)",
    ]
    assert change_count(built_db) == 0
    for raise_the_canary in (["custom", "--weight", "5"], ["custom", "--default"]):
        result = built_db.cli(
            "flags",
            "set",
            *raise_the_canary[:1],
            "--env",
            "prod",
            *raise_the_canary[1:],
            "--reason",
            "x",
        )
        assert result.returncode == 3, result.stdout
    assert change_count(built_db) == 0

    confirmed = built_db.cli(
        "flags",
        "set",
        "custom",
        "--env",
        "prod",
        "--weight",
        "5",
        "--reason",
        "widen",
        "--confirm-traffic",
    )
    assert confirmed.returncode == 0, confirmed.stderr
    assert "prod traffic: openai 99.0% -> 95.2%, custom 1.0% -> 4.8%\n" in confirmed.stdout
    # toward safety: one command, no acknowledgement
    drained = built_db.cli(
        "flags", "set", "custom", "--env", "prod", "--disable", "--reason", "INC-1"
    )
    assert drained.returncode == 0, drained.stderr
    assert "prod traffic: openai 95.2% -> 100.0%, custom 4.8% -> 0.0%\n" in drained.stdout
    assert built_db.execute(
        "select reason, changed_via from ai_provider_config_changes order by change_id"
    ) == [("widen", "ai-gate flags set --confirm-traffic"), ("INC-1", "ai-gate flags set")]


# 3 -------------------------------------------------------------------------------------


def test_a_drill_with_its_roles_reversed_is_refused(built_db: ClonedDatabase) -> None:
    """`drill rollback --canary openai --baseline custom` disabled the default provider
    during the drill and reported SUCCEEDED."""
    result = built_db.cli(
        "drill", "rollback", "--env", "prod", "--canary", "openai", "--baseline", "custom"
    )
    assert result.returncode == 3
    assert (
        "ai-gate: drill: --canary openai is not prod's canary: the routing seed names custom "
        "(metadata role 'canary'); drill acts on the seeded roles only, so that it never "
        "takes traffic from the wrong provider; nothing was done\n"
    ) in result.stderr
    assert built_db.execute("select count(*) from ai_rollback_drills") == [(0,)]
    assert change_count(built_db) == 0


# 4 -------------------------------------------------------------------------------------

EXAMPLES = REPO / "examples"
TOOL_EXAMPLES = (
    EXAMPLES / "promptfoo" / "results.json",
    EXAMPLES / "inspect" / "site_generation.json",
    EXAMPLES / "deepeval" / "test_run.json",
)


def test_offline_runs_never_decide_the_prod_canary(built_db: ClonedDatabase) -> None:
    """The three importer examples run in prod (offline suites, one with a deliberately
    unsafe case) made `canary evaluate --env prod` roll back from 15 demo samples. Only
    canary evidence (run type canary) feeds the quality arms; the others are named."""
    for path in TOOL_EXAMPLES:
        assert built_db.cli("run", str(path), "--env", "prod").returncode in (0, 2, 4)
    arm_runs = built_db.execute(
        "select runs.run_id, runs.run_type, count(*) from ai_eval_samples as samples"
        " join ai_eval_runs as runs using (run_id)"
        " where samples.selected_provider in ('custom', 'openai')"
        " group by runs.run_id, runs.run_type order by runs.run_id"
    )
    assert arm_runs and {run_type for _, run_type, _ in arm_runs} == {"offline"}

    result = built_db.cli("canary", "evaluate", "--env", "prod", "--json")
    decision = json.loads(result.stdout)
    assert decision["decision"] == "inconclusive" and result.returncode == 4
    assert {arm["eval_samples"] for arm in decision["arms"].values()} == {0}
    assert [
        (run["run_id"], run["run_type"], run["samples"]) for run in decision["ignored_eval_runs"]
    ] == arm_runs
    stored = built_db.execute("select decision, ignored_eval_runs from ai_canary_decisions")
    assert stored == [("inconclusive", decision["ignored_eval_runs"])]
    # an offline run named as the quality run is refused, nothing stored
    offline_run = arm_runs[0][0]
    named = built_db.cli("canary", "evaluate", "--env", "prod", "--run-id", offline_run)
    assert named.returncode == 3
    assert (
        f"--run-id: run {offline_run!r} is of run type 'offline', not 'canary': the canary "
        "decides on canary evidence of its own environment"
    ) in named.stderr
    assert built_db.execute("select count(*) from ai_canary_decisions") == [(1,)]


# 5 -------------------------------------------------------------------------------------


def wilson_bound(successes: int, trials: int, z: float, side: str) -> float:
    """One-sided Wilson bound, this test's own arithmetic."""
    p = successes / trials
    centre = p + z * z / (2 * trials)
    half = z * (p * (1 - p) / trials + z * z / (4 * trials * trials)) ** 0.5
    return (centre + (half if side == "upper" else -half)) / (1 + z * z / trials)


def test_a_clear_failure_below_the_minimum_fails(built_db: ClonedDatabase, tmp_path: Path) -> None:
    """30 samples at a schema-valid rate of 0.60 against prod's 0.98 were inconclusive
    (exit 4) for want of 100 samples. Below its minimum a gate fails when its one-sided
    bound at 0.95 is on the failing side, is inconclusive otherwise, never passes; a
    run stored before the rule keeps its judgement."""
    z95 = 1.6448536269514722
    cases = {"clear": 18, "unclear": 29}  # of 30 schema-valid
    for name, valid in cases.items():
        path = tmp_path / f"{name}.jsonl"
        path.write_text(
            "".join(
                json.dumps(
                    {
                        "sample_id": f"{name}-{i}",
                        "schema_valid": i < valid,
                        "safety_html_tailwind_compliant": True,
                        "latency_ms": 1000 + i,
                    }
                )
                + "\n"
                for i in range(30)
            )
        )
    code, gates = verdict(built_db, tmp_path / "clear.jsonl", tmp_path)
    schema = next(gate for gate in gates if gate["gate"] == "schema_valid_rate_min")
    assert code == 2 and schema["status"] == "failed"
    assert schema["upper_bound"] == pytest.approx(wilson_bound(18, 30, z95, "upper"), abs=1e-9)
    assert schema["upper_bound"] < 0.98
    # 29 of 30: the upper bound (0.998) does not miss 0.98, the lower does not clear it
    code, gates = verdict(built_db, tmp_path / "unclear.jsonl", tmp_path)
    schema = next(gate for gate in gates if gate["gate"] == "schema_valid_rate_min")
    assert code == 4 and schema["status"] == "inconclusive"
    assert wilson_bound(29, 30, z95, "upper") > 0.98
    # every gate with data below the minimum: none passed
    assert {g["status"] for g in gates if g["observed"] is not None} <= {"failed", "inconclusive"}

    # a run stored before the rule (no below_minimum_z in its policy): as judged then
    clear_run = built_db.execute(
        "select run_id from ai_eval_runs where source_file = 'clear.jsonl'"
    )
    built_db.execute(
        "insert into ai_eval_runs (run_id, run_type, environment, triggered_by, thresholds,"
        " strict, is_synthetic, status, started_at, source_file, source_sha256, metadata,"
        " gate_policy) values ('before-the-rule', 'offline', 'prod', 'test',"
        " '{\"schema_valid_rate_min\": 0.98}', false, false, 'running', now(), 'clear.jsonl',"
        ' repeat(\'b\', 64), \'{}\', \'{"policy": "point", "min_samples":'
        ' {"schema_valid_rate_min": 100}}\')'
    )
    built_db.execute(
        "insert into ai_eval_samples (run_id, sample_id, line_number, schema_valid,"
        " safety_html_tailwind_compliant, latency_ms) select 'before-the-rule', sample_id,"
        " line_number, schema_valid, safety_html_tailwind_compliant, latency_ms"
        " from ai_eval_samples where run_id = %s",
        (clear_run[0][0],),
    )
    assert built_db.execute(
        "select status from ai_eval_gate_results where run_id = 'before-the-rule'"
    ) == [("inconclusive",)]


# 6 -------------------------------------------------------------------------------------


def test_a_disabled_canary_is_said_to_be_disabled(built_db: ClonedDatabase) -> None:
    """A disabled canary made `canary evaluate` exit 4, "keep collecting", without ever
    saying it was disabled: it gets no traffic, so there is nothing to collect."""
    assert (
        built_db.cli(
            "flags", "set", "custom", "--env", "prod", "--disable", "--reason", "INC-7: 5xx"
        ).returncode
        == 0
    )
    result = built_db.cli("canary", "evaluate", "--env", "prod")
    assert result.returncode == 3
    assert result.stderr.splitlines()[1] == (
        "ai-gate: custom is disabled in prod since change #1 (INC-7: 5xx): it gets no "
        "traffic, so there is no rollout to evaluate; nothing was stored. To restart the "
        "rollout at the plan's first share: ai-gate flags set custom --env prod --enable "
        "--weight N --reason TEXT --confirm-traffic"
    )
    assert built_db.execute("select count(*) from ai_canary_decisions") == [(0,)]


# 7 -------------------------------------------------------------------------------------


def test_a_large_promptfoo_file_is_read_in_bounded_memory(tmp_path: Path, built_db) -> None:
    """A 200 MB promptfoo file took 931 MB: the whole document held, several times. The
    file is streamed now: here a 60 MB one imports with the process's data segment
    capped at 160 MB (the whole-document reader needed about four times the file)."""
    import resource
    import subprocess
    import sys

    big = promptfoo_results(tmp_path / "big.json", cases=200, output_kb=48)
    assert big.stat().st_size > 55_000_000
    limit = 160 * 1024 * 1024

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))

    completed = subprocess.run(
        [sys.executable, "-m", "ai_gate", "run", str(big), "--env", "staging"],
        env=built_db.env,
        capture_output=True,
        text=True,
        preexec_fn=cap,
        check=False,
        timeout=300,
    )
    assert completed.returncode in (0, 2), completed.stderr[-2000:]
    assert "big.json: promptfoo 0.121.20, 1200 attempts" in completed.stderr
    assert built_db.execute("select count(*) from ai_eval_samples") == [(1200,)]


# 8, 9 ----------------------------------------------------------------------------------


def test_truncated_and_malformed_tool_files_are_named_as_such(
    built_db: ClonedDatabase, tmp_path: Path
) -> None:
    """A truncated (or NaN-bearing) promptfoo file was called records, or not promptfoo;
    zero results said to give a map; an inspect log that errored was ingested as whole;
    duplicate attempts were reported against a deleted temporary file; a records file
    whose first line nests 3,000 deep ended in a RecursionError traceback."""
    whole = promptfoo_results(tmp_path / "whole.json", cases=2, output_kb=1)
    size = whole.stat().st_size
    truncated = promptfoo_results(
        tmp_path / "cut.json", cases=2, output_kb=1, truncate_at=size // 2
    )
    nan = tmp_path / "nan.json"
    first_latency = re.compile(r'"latencyMs": \d+')
    nan.write_text(first_latency.sub('"latencyMs": NaN', whole.read_text(), count=1))
    # ijson's C parser crashed the process (SIGSEGV) on an integer of 5,000 digits
    huge = tmp_path / "huge.json"
    huge.write_text(first_latency.sub('"latencyMs": ' + "9" * 5000, whole.read_text(), count=1))
    empty = tmp_path / "empty.json"
    empty.write_text(
        json.dumps(
            {
                **json.loads(whole.read_text()),
                "results": {
                    "version": 3,
                    "timestamp": "2026-12-01T00:00:00Z",
                    "prompts": [],
                    "results": [],
                },
            }
        )
    )
    errored_log = tmp_path / "errored.json"
    log = json.loads((EXAMPLES / "inspect" / "site_generation.json").read_text())
    log.update(status="error", error={"message": "RuntimeError: the model server went away"})
    errored_log.write_text(json.dumps(log))
    duplicated = tmp_path / "dup.json"
    document = json.loads(whole.read_text())
    document["results"]["results"][1]["testIdx"] = 0
    document["results"]["results"][1]["promptIdx"] = 0
    duplicated.write_text(json.dumps(document))
    deep = tmp_path / "deep.jsonl"
    deep.write_text('{"sample_id": "a", "metadata": ' + '{"a": ' * 3000 + "1" + "}" * 3001 + "\n")
    folder = tmp_path / "daily"
    folder.mkdir()
    (folder / "cut.json").write_bytes(truncated.read_bytes())
    cases = [
        (
            [str(truncated), "--format", "promptfoo"],
            f"{truncated}: truncated JSON at byte {size // 2:,} (a promptfoo results file?); "
            "nothing was written",
        ),
        (
            [str(truncated)],
            f"{truncated}: truncated JSON at byte {size // 2:,} (a promptfoo results file?)",
        ),
        ([str(nan)], f"{nan}: invalid JSON at byte"),
        ([str(huge)], "(a promptfoo results file?): parse error: integer overflow"),
        (
            [str(empty)],
            f"{empty}: a promptfoo results file with no results: nothing to judge; nothing "
            "was written",
        ),
        (
            [str(errored_log)],
            f"{errored_log}: the inspect-ai log has status 'error', not 'success' (the "
            "evaluation did not finish: RuntimeError: the model server went away)",
        ),
        (
            [str(duplicated)],
            f"{duplicated}: results.results[1]: sample_id: duplicate 't0-p0' (first at "
            "results.results[0])",
        ),
        ([str(deep)], f"{deep}:1: invalid JSON: nested too deeply"),
        ([str(deep), "--format", "records"], f"{deep}:1: invalid JSON: nested too deeply"),
    ]
    for args, message in cases:
        result = built_db.cli("run", *args)
        assert result.returncode == 3, (args, result.stderr)
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr and "records.jsonl" not in result.stderr
    assert built_db.execute("select count(*) from ai_eval_runs") == [(0,)]
    daily = built_db.cli("daily", "--env", "staging", "--records", str(folder), "--no-build")
    assert daily.returncode == 3
    assert (
        f"{folder / 'cut.json'}: truncated JSON at byte {size // 2:,} (a promptfoo results file?)"
        in daily.stderr
    )


def test_a_first_line_over_a_mebibyte_gets_the_length_message(
    built_db: ClonedDatabase, tmp_path: Path
) -> None:
    """With --format records it said `not a format ai-gate reads`; the record reader's
    own message is the clear one, whatever the flags."""
    long_line = tmp_path / "long.jsonl"
    long_line.write_text(
        json.dumps({"sample_id": "a", "schema_valid": True, "metadata": {"x": "y" * 1_100_000}})
        + "\n"
    )
    for extra in ([], ["--format", "records"]):
        result = built_db.cli("run", str(long_line), *extra)
        assert result.returncode == 3
        assert f"{long_line}:1: line longer than 1,048,576 bytes" in result.stderr


# 11 ------------------------------------------------------------------------------------


def test_inspects_default_eval_log_is_read(built_db: ClonedDatabase, tmp_path: Path) -> None:
    """inspect's default log format (.eval: a zip of zstd members, written here by
    inspect-ai 0.3.285 itself) was refused with a conversion command. The same
    evaluation as a JSON log and as an .eval log give the same rates and flaky cases."""
    reports = {}
    for suffix in ("json", "eval"):
        report = tmp_path / f"{suffix}.report.json"
        result = built_db.cli(
            "run",
            str(EXAMPLES / "inspect" / f"site_generation.{suffix}"),
            "--env",
            "staging",
            "--report-json",
            str(report),
        )
        assert result.returncode == 2, result.stderr
        reports[suffix] = json.loads(report.read_text())
    json_log, eval_log = reports["json"], reports["eval"]
    rates = ("schema_valid_rate", "safety_html_tailwind_compliance")
    assert [eval_log["metrics"][m] for m in rates] == [json_log["metrics"][m] for m in rates]
    assert eval_log["sample_count"] == json_log["sample_count"] == 15
    assert eval_log["error_count"] == json_log["error_count"] == 3
    flaky = [(c["case_id"], c["attempts"], c["passes"], c["flaky"]) for c in eval_log["flakiness"]]
    assert flaky == [
        (c["case_id"], c["attempts"], c["passes"], c["flaky"]) for c in json_log["flakiness"]
    ]
    assert eval_log["source"]["format"] == "inspect"
    assert eval_log["source"]["file"] == "site_generation.eval"


# 10 ------------------------------------------------------------------------------------


def test_the_html_report_names_a_bounded_number_of_runs(
    built_db: ClonedDatabase, tmp_path: Path
) -> None:
    """10,006 runs in 30 days made a 31.6 MB page of every run. The report now names the
    newest 50 runs and the newest 50 failed ones beyond them, counts the rest, and draws
    one point per gate and day; a wide table scrolls inside its section."""
    assert built_db.cli("run", str(PASSING), "--run-id", "seed-run").returncode == 0
    built_db.execute(
        "insert into ai_eval_runs (run_id, run_type, environment, triggered_by, thresholds,"
        " strict, is_synthetic, status, started_at, finished_at, source_file, source_sha256,"
        " metadata, verdict, gate_policy)"
        " select 'ci-' || i, 'offline', 'prod', 'ci', thresholds, false, false,"
        " case when i % 5 = 0 then 'failed' else 'passed' end, now() - i * interval '10 minutes',"
        " now() - i * interval '10 minutes', 'ci.jsonl', repeat('c', 64), '{}', verdict,"
        " gate_policy"
        " from ai_eval_runs, generate_series(1, 400) as i where run_id = 'seed-run'"
    )
    page = tmp_path / "report.html"
    assert built_db.cli("report", "--html", str(page), "--env", "prod").returncode == 0
    text = page.read_text()
    runs_table = text[text.index('<div data-table="runs">') :]
    runs_table = runs_table[: runs_table.index("</table>")]
    listed = re.findall(r'<tr><td><span id="run-[^"]+">(ci-\d+|seed-run)</span></td>', runs_table)
    newest = ["seed-run", *(f"ci-{i}" for i in range(1, 50))]
    failed_beyond = [f"ci-{i}" for i in range(50, 401) if i % 5 == 0][:50]
    assert listed == newest + failed_beyond
    assert "401 runs (80 failed)" in text
    assert "100 of 401; 301 more in the window" in text
    # the gate charts: a point per UTC day (at most 4 here), not per run
    days = built_db.execute(
        "select count(distinct date_trunc('day', started_at at time zone 'UTC')) from ai_eval_runs"
    )[0][0]
    assert days <= 4
    assert '<div class="table-scroll">' in text


# 12 ------------------------------------------------------------------------------------


def test_reports_to_standard_output_and_through_a_symlink(
    built_db: ClonedDatabase, tmp_path: Path
) -> None:
    """`--report-json /dev/stdout > out.txt` interleaved the text report into the JSON;
    `--report-md link.md` replaced the link with a file."""
    import subprocess
    import sys

    out = tmp_path / "out.txt"
    with out.open("w") as handle:
        completed = subprocess.run(
            [sys.executable, "-m", "ai_gate", "run", str(PASSING), "--report-json", "/dev/stdout"],
            env=built_db.env,
            stdout=handle,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(out.read_text())["status"] == "passed"  # the JSON alone
    assert "ai-gate eval run" in completed.stderr  # the text report, on stderr
    real = tmp_path / "real.md"
    link = tmp_path / "link.md"
    link.symlink_to(real)
    assert built_db.cli("check", "--latest", "--report-md", str(link)).returncode == 0
    assert link.is_symlink() and "PASSED" in real.read_text()


# 14, 15 --------------------------------------------------------------------------------


def test_flags_history_of_an_unknown_environment_and_a_piped_source(
    built_db: ClonedDatabase,
) -> None:
    """`flags history --env produ` exited 0 (`flags --env produ` exits 3); `run
    <(cat passing.jsonl)` recorded its source as `63`."""
    import subprocess

    history = built_db.cli("flags", "history", "--env", "produ")
    assert history.returncode == 3
    assert "unknown environment 'produ' (known: prod, staging)" in history.stderr
    piped = subprocess.run(
        ["bash", "-c", f'"$0" -m ai_gate run <(cat "{PASSING}")', __import__("sys").executable],
        env=built_db.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert piped.returncode == 0, piped.stderr
    (source,) = built_db.execute("select source_file from ai_eval_runs")[0]
    assert re.fullmatch(r"/dev/fd/\d+", source), source


# 16 ------------------------------------------------------------------------------------


def test_a_refused_delete_says_what_to_do_for_that_table(built_db: ClonedDatabase) -> None:
    """Refused deletes on eval samples and canary decisions pointed at `flags set`."""
    import psycopg

    hints = {}
    for table in ("ai_eval_samples", "ai_canary_decisions", "ai_rollback_drills"):
        with pytest.raises(psycopg.errors.RestrictViolation) as refused:
            built_db.execute(f"delete from {table}")
        hints[table] = refused.value.diag.message_hint
    assert hints == {
        "ai_eval_samples": (
            "Samples belong to their run: ingest a new run instead (ai-gate run FILE)."
        ),
        "ai_canary_decisions": "A decision is evidence: evaluate again (ai-gate canary evaluate).",
        "ai_rollback_drills": "A drill is evidence: run another (ai-gate drill rollback).",
    }


# 18, 20 --------------------------------------------------------------------------------


def test_input_messages_name_the_field_and_what_is_wrong(
    built_db: ClonedDatabase, tmp_path: Path
) -> None:
    """A map with a key given twice was accepted; a promptfoo `"pass": "true"` said
    `assertion without pass`; a deepeval `"success": "yes"` said `success`; a 5,000-digit
    integer mentioned sys.set_int_max_str_digits(); a duplicate `metadata.a` was named
    `a`; the --run-id clash said "the file content differ"."""
    twice = tmp_path / "map.yml"
    twice.write_text("schema_valid: schema_valid\nschema_valid: other\n")
    promptfoo = json.loads((EXAMPLES / "promptfoo" / "results.json").read_text())
    promptfoo["results"]["results"][2]["gradingResult"]["componentResults"][0]["pass"] = "true"
    pass_text = tmp_path / "pass.json"
    pass_text.write_text(json.dumps(promptfoo))
    deepeval = json.loads((EXAMPLES / "deepeval" / "test_run.json").read_text())
    deepeval["testCases"][0]["metricsData"][0]["success"] = "yes"
    success_text = tmp_path / "success.json"
    success_text.write_text(json.dumps(deepeval))
    huge = tmp_path / "huge.jsonl"
    huge.write_text('{"sample_id": "a", "schema_valid": true, "latency_ms": ' + "9" * 5000 + "}\n")
    twice_key = tmp_path / "twice.jsonl"
    twice_key.write_text(
        '{"sample_id": "a", "schema_valid": true, "safety_html_tailwind_compliant": true,'
        ' "metadata": {"a": 1, "a": 2}}\n'
    )
    metric = deepeval["testCases"][0]["metricsData"][0]["name"]
    cases = [
        (
            ["--map", str(twice), str(EXAMPLES / "promptfoo" / "results.json")],
            f"{twice}:2: schema_valid: given twice (first on line 1)",
        ),
        (
            [str(pass_text)],
            f"{pass_text}: results.results[2].gradingResult.componentResults[0].pass: must be "
            "true or false, got 'true' (string)",
        ),
        (
            [str(success_text)],
            f"{success_text}: testCases[0].metricsData[0] ({metric}).success: must be true or "
            "false, got 'yes' (string)",
        ),
        ([str(huge)], f"{huge}:1: invalid JSON: a number of more than 4,300 digits"),
        ([str(twice_key)], f"{twice_key}:1: metadata.a: duplicate key in one object"),
    ]
    for args, message in cases:
        result = built_db.cli("run", *args, "--env", "staging")
        assert result.returncode == 3, (args, result.stderr)
        assert message in result.stderr, (args, result.stderr)
        assert "set_int_max_str_digits" not in result.stderr
    assert built_db.cli("run", str(PASSING), "--run-id", "mine").returncode == 0
    clash = built_db.cli("run", str(FAILING), "--run-id", "mine")
    assert clash.returncode == 3
    assert (
        "run id 'mine' already exists for another run: its file content is not this run's; "
        "nothing was written"
    ) in clash.stderr


def test_commands_that_never_gate_do_not_say_pass_or_go() -> None:
    """`--help` of a command that judges nothing listed `0   pass / go`."""
    from conftest import clean_environ, run_cli

    for command in (
        ["build"],
        ["flags"],
        ["flags", "set"],
        ["latency"],
        ["report"],
        ["db", "info"],
    ):
        shown = run_cli([*command, "--help"], clean_environ()).stdout
        assert "  0   done\n" in shown and "pass / go" not in shown, command
    assert (
        "  0   every evaluated gate passed\n" in run_cli(["run", "--help"], clean_environ()).stdout
    )


# 19 ------------------------------------------------------------------------------------


def test_a_failed_builds_outcome_names_the_failing_node(
    built_db: ClonedDatabase, tmp_path: Path
) -> None:
    """daily-outcome.json said `dbt build failed (dbt exit code 1):`, the failing node
    dropped, and listed the skipped nodes with empty messages."""
    built_db.execute(
        "insert into ai_eval_runs (run_id, run_type, environment, triggered_by, thresholds,"
        " strict, is_synthetic, status, started_at, source_file, source_sha256, metadata)"
        " values ('no-samples', 'offline', 'prod', 'test', '{}', false, false, 'running',"
        " now(), 'x.jsonl', repeat('a', 64), '{}')"
    )
    reports = tmp_path / "reports"
    result = built_db.cli(
        "daily", "--env", "prod", "--records", str(PASSING), "--report-dir", str(reports)
    )
    assert result.returncode == 1
    error = json.loads((reports / "daily-outcome.json").read_text())["error"]
    headline, *details = error.splitlines()
    assert headline.startswith("dbt build failed: fail test.ai_gate.every_eval_run_has_samples")
    assert details[0].startswith("  FAIL     test.ai_gate.every_eval_run_has_samples") and details[
        0
    ].endswith(": Got 1 result, configured to fail if != 0")
    assert re.fullmatch(r"  \d+ skipped because of them: .*", details[1])
    assert not any(line.startswith("  SKIPPED") for line in details)


# 21 ------------------------------------------------------------------------------------


def test_check_json_and_the_readmes_path_line(built_db: ClonedDatabase) -> None:
    """`check` had no --json (flags, latency and canary evaluate have); after
    quickstart, `ai-gate` was not on PATH and the README never said how to reach it."""
    import subprocess

    assert built_db.cli("run", str(FAILING)).returncode == 2
    checked = built_db.cli("check", "--latest", "--json")
    assert checked.returncode == 2
    assert json.loads(checked.stdout)["status"] == "failed"
    readme = (REPO / "README.md").read_text()
    (line,) = [text for text in readme.splitlines() if text.startswith("export PATH=")]
    found = subprocess.run(
        ["bash", "-c", f"{line} && command -v ai-gate"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert found.stdout.strip() == str(REPO / ".venv" / "bin" / "ai-gate")
