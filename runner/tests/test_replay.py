"""`ai-gate replay`: every stored eval run judged again from its stored samples. Under
the stored policies nothing changes; a tightened threshold flips exactly the runs this
test's own arithmetic names; a stored verdict edited behind the guard's back is a
discrepancy (exit 1); the replay writes no row."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from statistics import NormalDist

from conftest import ClonedDatabase
from eval_oracle import expected_metrics
from psycopg import sql

REPO = Path(__file__).resolve().parents[2]
PASSING = REPO / "examples" / "evals" / "passing.jsonl"
FAILING = REPO / "examples" / "evals" / "failing.jsonl"


def schema_valid_records(path: Path, count: int, invalid: int) -> Path:
    """`count` samples, exactly `invalid` of them schema-invalid; every other judged
    check passes (safety true, no fallback, latencies far under prod's p95 ceiling)."""
    with path.open("w") as handle:
        for index in range(count):
            record = {
                "sample_id": f"{path.stem}-{index}",
                "case_id": f"case-{index}",
                "schema_valid": index >= invalid,
                "safety_html_tailwind_compliant": True,
                "fallback_used": False,
                "latency_ms": 1000 + index % 500,
            }
            handle.write(json.dumps(record) + "\n")
    return path


def one_sided_wilson(successes: int, trials: int, z: float) -> tuple[float, float]:
    """This test's own arithmetic: the Wilson score bounds at z."""
    rate = successes / trials
    centre = rate + z * z / (2 * trials)
    spread = z * math.sqrt(rate * (1 - rate) / trials + z * z / (4 * trials * trials))
    return (centre - spread) / (1 + z * z / trials), (centre + spread) / (1 + z * z / trials)


def gate_status_at(metrics: dict, threshold: float, confidence: float | None) -> str:
    """A minimum's status: on the point estimate, or on one-sided bounds."""
    rate, n = metrics["schema_valid_rate"], metrics["schema_valid_rate_count"]
    if confidence is None:
        return "passed" if rate >= threshold else "failed"
    low, high = one_sided_wilson(round(rate * n), n, NormalDist().inv_cdf(confidence))
    return "passed" if low >= threshold else "failed" if high < threshold else "inconclusive"


def every_table_count(db: ClonedDatabase) -> dict[str, int]:
    tables = db.execute(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = current_schema() and c.relkind in ('r', 'p') order by 1"
    )
    return {name: db.execute(f'select count(*) from "{name}"')[0][0] for (name,) in tables}


def samples_read_by_the_generic_plan(db: ClonedDatabase, run_id: str) -> tuple[set[str], set[str]]:
    """How the replay's generic plan reaches ai_eval_samples: the scans of the table
    and the indexes read anywhere in the plan."""
    with db.database.connect() as conn:
        conn.execute("set local plan_cache_mode = force_generic_plan")
        conn.execute(
            "prepare replayed (text, jsonb, jsonb) as"
            " select * from ai_eval_replay_judgement($1, $2, $3)"
        )
        (plan,) = conn.execute(
            sql.SQL("explain (format json) execute replayed ({}, null, null)").format(
                sql.Literal(run_id)
            )
        ).fetchone()

    def nodes(node: dict) -> list[dict]:
        return [node, *(n for child in node.get("Plans", []) for n in nodes(child))]

    every = nodes(plan[0]["Plan"])
    scans = {n["Node Type"] for n in every if n.get("Relation Name") == "ai_eval_samples"}
    return scans, {n["Index Name"] for n in every if "Index Name" in n}


def replay_json(db: ClonedDatabase, *args: str) -> tuple[int, dict]:
    result = db.cli("replay", "--env", "prod", "--json", *args)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, json.loads(result.stdout)


def test_replay_reproduces_stored_runs_and_names_what_a_proposal_flips(
    built_db: ClonedDatabase, tmp_path: Path
) -> None:
    files = {"passing": PASSING, "failing": FAILING}
    for name, count, invalid in (
        ("rate_970", 400, 12),
        ("rate_9925", 400, 3),
        ("rate_1000", 400, 0),
        ("rate_985", 400, 6),  # compared with the newest passed run
        ("below_minimum", 30, 12),  # 0.60 on 30: failed below the minimum
    ):
        files[name] = schema_valid_records(tmp_path / f"{name}.jsonl", count, invalid)
    run_ids: dict[str, str] = {}
    for name, path in files.items():
        extra = {
            "rate_9925": ["--strict"],
            "rate_1000": ["--confidence", "0.95"],
            "rate_985": ["--baseline", "latest-passed"],
        }.get(name, [])
        report = tmp_path / f"{name}.report.json"
        result = built_db.cli(
            "run", str(path), "--env", "prod", "--report-json", str(report), *extra
        )
        assert result.returncode in (0, 2, 4), result.stderr
        run_ids[name] = json.loads(report.read_text())["run_id"]
    before = every_table_count(built_db)

    # under the stored policies: every run as stored
    code, stored = replay_json(built_db)
    assert code == 0
    assert stored["policy"] == "stored"
    assert stored["runs_replayed"] == len(files)
    assert stored["runs_changed"] == 0 and stored["discrepancies"] == []
    stored_status = {run["run_id"]: run["stored_status"] for run in stored["runs"]}
    assert {run["replayed_status"] for run in stored["runs"]} <= {"passed", "failed"}
    assert all(run["stored_status"] == run["replayed_status"] for run in stored["runs"])
    assert stored_status[run_ids["rate_970"]] == "failed"
    assert stored_status[run_ids["below_minimum"]] == "failed"

    # tightened: schema_valid_rate_min 0.99 (prod's is 0.98); this test's arithmetic
    # says which gates fail and which runs flip
    proposal = tmp_path / "proposal.yml"
    proposal.write_text("schema_valid_rate_min: 0.99\n")
    code, replayed = replay_json(built_db, "--thresholds", str(proposal))
    assert code == 0
    metrics = {run_ids[name]: expected_metrics(path) for name, path in files.items()}
    confidence = {run_ids["rate_1000"]: 0.95}
    predicted = {
        run_id: gate_status_at(values, 0.99, confidence.get(run_id))
        for run_id, values in metrics.items()
    }
    predicted[run_ids["below_minimum"]] = "failed"  # 0.60 on 30, conclusive below 100
    gates = {
        run["run_id"]: next(g for g in run["gates"] if g["gate"] == "schema_valid_rate_min")
        for run in replayed["runs"]
    }
    assert {run_id: gate["replayed_status"] for run_id, gate in gates.items()} == predicted
    assert {(g["stored_threshold"], g["replayed_threshold"]) for g in gates.values()} == {
        (0.98, 0.99)
    }
    # every other gate is judged as stored, so a run flips where its schema gate does
    flipped = {
        run_id
        for run_id, status in predicted.items()
        if stored_status[run_id] == "passed" and status == "failed"
    }
    assert flipped == {run_ids["rate_985"]}  # 0.985 passed 0.98, fails 0.99
    assert {
        run["run_id"] for run in replayed["runs"] if run["stored_status"] != run["replayed_status"]
    } == flipped
    assert replayed["transitions"] == [
        {"stored_status": "passed", "replayed_status": "failed", "runs": len(flipped)}
    ]
    assert replayed["runs"][0]["run_id"] in flipped  # the changed ones first

    # the terminal's text names the flipped run and its gate, with the file's rate
    text = built_db.cli("replay", "--env", "prod", "--thresholds", str(proposal))
    assert text.returncode == 0
    row = next(line for line in text.stdout.splitlines() if line.startswith(run_ids["rate_985"]))
    assert row.split()[3:5] == ["passed", "failed"]
    rate_985 = metrics[run_ids["rate_985"]]["schema_valid_rate"]
    assert f"schema_valid_rate_min passed -> failed ({rate_985:.6g}; threshold 0.98 -> 0.99)" in row
    # a pull request's check
    assert (
        built_db.cli(
            "replay", "--env", "prod", "--thresholds", str(proposal), "--fail-on-change"
        ).returncode
        == 2
    )
    loosened = tmp_path / "loosened.yml"
    loosened.write_text("p95_latency_ms_max: 25000\n")
    assert (
        built_db.cli(
            "replay", "--env", "prod", "--thresholds", str(loosened), "--fail-on-change"
        ).returncode
        == 0
    )
    # a policy file: a minimum of 1,000 samples for the schema gate, which no run has:
    # below it a gate never passes, and fails only where its one-sided upper bound
    # (at 0.95, this test's arithmetic) misses 0.98
    policy = tmp_path / "policy.yml"
    policy.write_text(
        "thresholds:\n  schema_valid_rate_min: 0.98\nmin_samples:\n  schema_valid_rate_min: 1000\n"
    )
    code, minimums = replay_json(built_db, "--policy", str(policy))
    assert code == 0
    z = NormalDist().inv_cdf(0.95)
    below = {
        run_id: "failed"
        if one_sided_wilson(
            round(values["schema_valid_rate"] * values["schema_valid_rate_count"]),
            values["schema_valid_rate_count"],
            z,
        )[1]
        < 0.98
        else "inconclusive"
        for run_id, values in metrics.items()
    }
    assert {
        run["run_id"]: next(g for g in run["gates"] if g["gate"] == "schema_valid_rate_min")[
            "replayed_status"
        ]
        for run in minimums["runs"]
    } == below
    assert minimums["proposal"]["min_samples"] == {"schema_valid_rate_min": 1000}
    assert {"stored_status": "passed", "replayed_status": "inconclusive"} in [
        {k: t[k] for k in ("stored_status", "replayed_status")} for t in minimums["transitions"]
    ]
    # read-only
    assert every_table_count(built_db) == before
    # the replay's statement, planned once for every run (a generic plan), still reads
    # one run's samples through their key, never the whole table
    scans, indexes = samples_read_by_the_generic_plan(built_db, run_ids["rate_985"])
    assert scans and scans <= {"Index Scan", "Index Only Scan", "Bitmap Heap Scan"}, scans
    assert "ai_eval_samples_pkey" in indexes

    # a stored verdict edited behind the guard's back: the record and the data disagree
    built_db.execute(
        "alter table ai_eval_runs disable trigger ai_eval_runs_final_verdict;"
        f" update ai_eval_runs set status = 'failed' where run_id = '{run_ids['rate_1000']}';"
        " alter table ai_eval_runs enable trigger ai_eval_runs_final_verdict"
    )
    result = built_db.cli("replay", "--env", "prod")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "ai-gate: 1 run(s) replayed under their stored policies are not judged as stored "
        f"(the record and the data disagree): {run_ids['rate_1000']} (stored failed, "
        "replayed passed)"
    )


def test_replay_refuses_bad_input_with_nothing_judged(
    built_db: ClonedDatabase, tmp_path: Path
) -> None:
    unknown = tmp_path / "unknown.yml"
    unknown.write_text("schema_valid_rate_min: 0.99\nno_such_gate: 1\n")
    result = built_db.cli("replay", "--env", "prod", "--thresholds", str(unknown))
    assert result.returncode == 3
    assert f"{unknown}:2: no_such_gate: unknown gate" in result.stderr
    result = built_db.cli("replay", "--env", "produ")
    assert result.returncode == 3
    assert "unknown environment 'produ'" in result.stderr
    assert built_db.cli("replay", "--env", "prod", "--since", "soon").returncode == 64
    canary = tmp_path / "canary.yml"
    canary.write_text(
        "confidence: 0.95\ncanary:\n  max_p95: 1\n  alpha: 1.5\nmin_samples: 3\nsla: 1\n"
    )
    result = built_db.cli("replay", "--env", "prod", "--policy", str(canary))
    assert result.returncode == 3
    assert result.stderr.splitlines()[-4:] == [
        f"  {canary}:3: max_p95: unknown guardrail (known: max_fallback_rate, "
        "min_schema_valid_rate, max_p95_latency_ms, max_p50_latency_ratio, max_cost_ratio, "
        "min_telemetry_per_arm, min_eval_samples_per_arm, alpha, go_alpha, srm_alpha)",
        f"  {canary}:4: alpha: an alpha must be below 1, got 1.5",
        f"  {canary}:5: min_samples: a mapping of name to value",
        f"  {canary}:6: sla: unknown section (known: thresholds, min_samples, confidence, canary)",
    ]
    both = built_db.cli("replay", "--policy", str(canary), "--confidence", "0.9")
    assert both.returncode == 64
    empty = built_db.cli("replay", "--env", "prod")
    assert empty.returncode == 0
    assert empty.stdout.splitlines()[1:] == [
        "",
        "canary decisions: 0 decisions re-derived under their stored policies, 0 not as stored",
    ]
    assert empty.stdout.splitlines()[0].endswith(
        "under each run's stored policy: 0 runs judged again, 0 changed"
    )


def test_the_dossier_links_each_change_to_its_decision_runs_and_drill(
    built_db: ClonedDatabase, tmp_path: Path
) -> None:
    """A rollout's story: two flag changes, a drill (two changes of its own), a go
    decision on a canary eval run, then the step it allowed. Each change's row says
    the decision in force, the runs it read and the drill before it, as the tables
    hold them (the changes before the decision have none, the step has all three)."""
    from test_rollout import at_step, evaluate, simulate

    at_step(built_db, 4)
    assert built_db.cli("drill", "rollback", "--env", "prod").returncode == 0
    simulate(built_db, "healthy", rows=60_000, real=True)
    code, decision = evaluate(built_db)
    assert code == 0
    stepped = built_db.cli("canary", "step", "--env", "prod")
    assert stepped.returncode == 0, stepped.stderr
    ((run_id, sha256, samples),) = built_db.execute(
        "select runs.run_id, runs.source_sha256, count(*) from ai_eval_runs as runs"
        " join ai_eval_samples as samples using (run_id) where runs.run_type = 'canary'"
        " and samples.selected_provider in ('custom', 'openai')"
        " group by runs.run_id, runs.source_sha256"
    )
    ((drill_id, drill_finished),) = built_db.execute(
        "select drill_id::text, finished_at from ai_rollback_drills"
    )
    change_sets = built_db.execute(
        "select change_set_id::text, min(change_id), min(changed_via) from"
        " ai_provider_config_changes where environment = 'prod'"
        " group by change_set_id order by min(change_id) desc"
    )
    assert len(change_sets) == 5  # 2 weights, the drill's rollback and restore, the step

    result = built_db.cli("dossier", "--env", "prod", "--json")
    assert result.returncode == 0, result.stderr
    entries = json.loads(result.stdout)["changes"]
    assert [(e["change_set_id"], e["first_change_id"], e["changed_via"]) for e in entries] == [
        tuple(row) for row in change_sets
    ]
    step, *before_the_decision = entries
    assert step["changed_via"].startswith("ai-gate canary step")
    assert (step["decision_id"], step["decision"]) == (decision["decision_id"], "go")
    assert step["eval_runs"] == [
        {
            "run_id": run_id,
            "samples": samples,
            "status": built_db.execute(
                "select status from ai_eval_runs where run_id = %s", (run_id,)
            )[0][0],
            "source_file": built_db.execute(
                "select source_file from ai_eval_runs where run_id = %s", (run_id,)
            )[0][0],
            "source_sha256": sha256,
        }
    ]
    assert (step["drill_id"], step["drill_succeeded"]) == (drill_id, True)
    assert step["drill_finished_at"] == drill_finished.isoformat()
    for entry in before_the_decision:
        assert entry["decision_id"] is None and entry["eval_runs"] == []
    # the weights were set before the drill; the drill's own changes came before it
    # finished: none has a drill before it
    assert all(entry["drill_id"] is None for entry in before_the_decision)

    text = built_db.cli("dossier", "--env", "prod").stdout
    blocks = text.split("\n\n")[1:]
    assert len(blocks) == 5
    assert f"decision #{decision['decision_id']} go at " in blocks[0]
    assert f"eval run {run_id}: " in blocks[0] and f"sha256 {sha256}" in blocks[0]
    assert f"last drill {drill_id} succeeded" in blocks[0]
    assert "custom (change #" in blocks[0] and "weight 4 -> 5" in blocks[0]
    assert all("no canary decision stored before it" in block for block in blocks[1:])
    markdown = built_db.cli("dossier", "--env", "prod", "--md").stdout
    assert markdown.count("\n### ") == 5

    # every stored decision re-derived under its stored policy, from its evidence and
    # from the telemetry and eval samples of its window: as stored
    assert evaluate(built_db)[0] == 4  # a new step: its own evidence first
    decisions = built_db.execute("select decision_id from ai_canary_decisions order by 1 desc")
    assert len(decisions) == 2
    code, replayed = replay_json(built_db)
    assert code == 0, replayed["decision_discrepancies"]
    assert [d["decision_id"] for d in replayed["decisions"]] == [row[0] for row in decisions]
    assert all(
        d["replayed_decision"] == d["stored_decision"] and d["discrepancies"] == []
        for d in replayed["decisions"]
    )
    assert all(d["late_rows"] == {} for d in replayed["decisions"])
    # a generation written now with a time inside the go decision's window arrived
    # after it: counted and named, not used, no discrepancy
    go_id = decision["decision_id"]
    built_db.execute(
        "insert into ai_training_examples (created_at, request_id, requested_provider,"
        " selected_provider, route_strategy, fallback_used, latency_ms)"
        " select window_start + (window_end - window_start) / 2, 'late-1', 'custom', 'custom',"
        " 'canary',"
        " false, 1234 from ai_canary_decisions where decision_id = %s",
        (go_id,),
    )
    code, late = replay_json(built_db)
    assert code == 0
    late_go = next(d for d in late["decisions"] if d["decision_id"] == go_id)
    assert late_go["late_rows"] == {
        "custom.served_rows": 1,
        "custom.routed_rows": 1,
        "custom.latency_samples": 1,
    }
    assert late_go["discrepancies"] == []
    # proposed guardrails: a p95 ceiling of 1 s, which the healthy canary's latencies
    # (seconds) break: the go would have been a hold; --fail-on-change says so
    ceiling = tmp_path / "ceiling.yml"
    ceiling.write_text("canary:\n  max_p95_latency_ms: 1000\n")
    code, proposed = replay_json(built_db, "--policy", str(ceiling))
    assert code == 0
    go = next(d for d in proposed["decisions"] if d["decision_id"] == go_id)
    assert (go["stored_decision"], go["proposed_decision"]) == ("go", "hold")
    assert "max_p95_latency_ms" in go["proposed_breached"], go["proposed_breached"]
    assert go_id in proposed["decisions_changed"]
    assert proposed["runs_changed"] == 0  # the eval gates are not proposed
    # the rollout's time to go: its first step (up to the canary step) looked at every
    # hour on the data as it is now; under the stored guardrails it goes at the first
    # look with the rows the go decision read and the late one, under the proposed
    # ceiling never
    (rollout,) = proposed["rollouts"]
    stored_rows = built_db.execute(
        "select (arms #>> '{custom,served_rows}')::int from ai_canary_decisions"
        " where decision_id = %s",
        (go_id,),
    )[0][0]
    assert (rollout["canary"], rollout["looks"]) == ("custom", 1)
    assert (rollout["stored_go_hour"], rollout["stored_go_canary_rows"]) == (1, stored_rows + 1)
    assert (rollout["proposed_go_hour"], rollout["proposed_go_canary_rows"]) == (None, None)
    failing = built_db.cli("replay", "--env", "prod", "--policy", str(ceiling), "--fail-on-change")
    assert failing.returncode == 2
    assert f"decision #{go_id} (" in failing.stdout and "go -> hold" in failing.stdout
    # a decision made by earlier rules (before ADR 0004: no method) is listed, not
    # re-derived by today's
    built_db.execute(
        "alter table ai_canary_decisions disable trigger all;"
        f" update ai_canary_decisions set method = null where decision_id <> {go_id};"
        " alter table ai_canary_decisions enable trigger all"
    )
    code, older = replay_json(built_db)
    assert code == 0
    assert [
        (d["replayed_decision"], d["note"]) for d in older["decisions"] if d["decision_id"] != go_id
    ] == [(None, "decided by other rules (point estimates): not re-derived")] * (len(decisions) - 1)
    # a stored count edited behind the guard's back: the decision no longer follows
    # from its evidence
    built_db.execute(
        "alter table ai_canary_decisions disable trigger all;"
        " update ai_canary_decisions set arms = jsonb_set(arms, '{custom,fallback,successes}',"
        " to_jsonb((arms #>> '{custom,fallback,successes}')::int + 40))"
        f" where decision_id = {go_id};"
        " alter table ai_canary_decisions enable trigger all"
    )
    result = built_db.cli("replay", "--env", "prod")
    assert result.returncode == 1
    last = result.stderr.splitlines()[-1]
    assert last.startswith(
        "ai-gate: 1 canary decision(s) are not re-derived as stored (the record and the data"
        f" disagree): #{go_id} (rule max_fallback_rate: "
    ), last
    assert f"decision #{go_id} (" in result.stdout

    # the HTML report links them: the step's row to its decision and the drill before
    # it, the decision's row to the run it read; every link resolves in Chromium
    page_path = Path(built_db.env.get("TMPDIR", "/tmp")) / f"{built_db.name}.html"
    assert built_db.cli("report", "--html", str(page_path), "--env", "prod").returncode == 0
    try:
        page = page_path.read_text()
        links = set(re.findall(r'href="#([^"]+)"', page))
        assert {
            f"decision-{decision['decision_id']}",
            f"run-{run_id}",
            f"drill-{drill_id}",
        } <= links
        assert links <= set(re.findall(r'id="([^"]+)"', page))
        step_row = next(
            row for row in page.split("<tr>") if "canary step" in row and ">custom<" in row
        )
        assert f'href="#decision-{decision["decision_id"]}"' in step_row
        assert f'href="#drill-{drill_id}"' in step_row
        resolved = chromium_link_targets(page_path)
        if resolved is not None:
            assert resolved and all(resolved.values()), resolved
    finally:
        page_path.unlink(missing_ok=True)


def chromium_link_targets(page_path: Path) -> dict[str, bool] | None:
    """Each in-page link of the page as Chromium loads it, and whether its target is
    there (None without Chromium)."""
    from test_report import CHROMIUM, CHROMIUM_ARGS

    if CHROMIUM is None:
        return None
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(page_path.as_uri(), wait_until="load")
            pairs = page.eval_on_selector_all(
                'a[href^="#"]',
                "links => links.map(a => [a.getAttribute('href').slice(1),"
                " document.getElementById(a.getAttribute('href').slice(1)) !== null])",
            )
        finally:
            browser.close()
    return dict(pairs)


def test_a_rollouts_time_to_go_is_its_first_hourly_look_with_the_evidence(
    built_db: ClonedDatabase, tmp_path: Path
) -> None:
    """A rollout started three hours ago (its start moved back behind the guard) whose
    traffic came in its last hour: hourly looks find no rows in the first two hours and
    go at the first look that holds them, with as many canary rows as the table has
    before that hour's end; under a 1 s p95 ceiling it never goes."""
    from test_rollout import evaluate, simulate

    for args in (
        ["custom", "--disable", "--reason", "restart"],
        ["custom", "--enable", "--weight", "4", "--reason", "start", "--confirm-traffic"],
    ):
        assert built_db.cli("flags", "set", *args, "--env", "prod").returncode == 0
    built_db.execute(
        "alter table ai_provider_config_changes disable trigger all;"
        " update ai_provider_config_changes set changed_at = changed_at - interval '3 hours';"
        " alter table ai_provider_config_changes enable trigger all"
    )
    simulate(built_db, "healthy", rows=20_000, real=True)
    code, decision = evaluate(built_db)
    assert code == 0
    ceiling = tmp_path / "ceiling.yml"
    ceiling.write_text("canary:\n  max_p95_latency_ms: 1000\n")
    code, replayed = replay_json(built_db, "--policy", str(ceiling))
    assert code == 0 and replayed["decision_discrepancies"] == []
    (rollout,) = replayed["rollouts"]
    assert rollout["looks"] == 4  # three hours and the seconds since
    hour = rollout["stored_go_hour"]
    assert hour in (3, 4)
    started = built_db.execute(
        "select window_start from ai_canary_decisions where decision_id = %s",
        (decision["decision_id"],),
    )[0][0]
    counts = [
        built_db.execute(
            "select count(*) from ai_training_examples where selected_provider = 'custom'"
            " and created_at >= %s and created_at < %s + %s * interval '1 hour'",
            (started, started, h),
        )[0][0]
        for h in (1, 2, hour)
    ]
    assert counts[:2] == [0, 0] and counts[2] > 0
    assert rollout["stored_go_canary_rows"] == counts[2]
    assert (rollout["proposed_go_hour"], rollout["proposed_go_canary_rows"]) == (None, None)
