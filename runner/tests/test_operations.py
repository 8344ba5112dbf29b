"""ai-gate as its users operate it (issue 29), each numbered case through the CLI (or
dbt) on a real PostgreSQL: an analyst's partial or failed build, an on-call flag change,
offline runs in prod, clear failures below the minimum, tool files of real size."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ClonedDatabase

REPO = Path(__file__).resolve().parents[2]
PASSING = REPO / "examples" / "evals" / "passing.jsonl"
FAILING = REPO / "examples" / "evals" / "failing.jsonl"
# What `ai-gate run` and `ai-gate flags` read, which no build may leave missing.
READ_BY_COMMANDS = (
    "ai_provider_configs",
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
            gate_view text := pg_get_viewdef('ai_eval_gate_results'::regclass);
            summary_view text := rtrim(pg_get_viewdef('ai_eval_run_summary_v2'::regclass), ';');
        begin
            drop view ai_eval_run_summary_v2 cascade;
            execute 'create view ai_eval_run_summary_v2 with (security_invoker = true) as'
                || ' select 1 as retired, summary.* from (' || summary_view || ') as summary';
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
    assert (
        'replacing "public"."ai_eval_run_summary_v2" drops the view public.reads_retired, '
        "which cannot be created again over its new columns (column "
        "ai_eval_run_summary_v2.retired does not exist)"
    ) in refused.stderr
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
    assert f"evaluation run {offline_run!r} is of run type 'offline', not canary evidence" in (
        named.stderr
    )
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
