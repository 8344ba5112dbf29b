"""`ai-gate replay` for a person: the terminal's text and the Markdown of a pull
request's summary (`--report-md`). The changed runs are listed in full, the unchanged
ones counted."""

from __future__ import annotations

from ai_gate.evals.replay import ReplayedGate, ReplayedRun, RunsReplay
from ai_gate.formatters.text_table import table

HEADERS = ("run", "started (UTC)", "stored", "replayed", "gates that changed")


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def _threshold(value: float | None) -> str:
    return "off" if value is None else f"{value:g}"


def _gate_change(gate: ReplayedGate) -> str:
    observed = "no data" if gate.observed is None else f"{gate.observed:.6g}"
    threshold = (
        _threshold(gate.replayed_threshold)
        if gate.stored_threshold == gate.replayed_threshold
        else f"{_threshold(gate.stored_threshold)} -> {_threshold(gate.replayed_threshold)}"
    )
    return (
        f"{gate.gate} {gate.stored_status or 'not judged'} -> "
        f"{gate.replayed_status or 'not judged'} ({observed}; threshold {threshold})"
    )


def _row(run: ReplayedRun) -> tuple[str, str, str, str, str]:
    return (
        run.run_id,
        f"{run.started_at:%Y-%m-%d %H:%M}",
        run.stored_status,
        run.replayed_status,
        "; ".join(_gate_change(gate) for gate in run.gates if gate.changed),
    )


def headline(replay: RunsReplay) -> str:
    if replay.proposal is None:
        policy = "each run's stored policy"
    else:
        changes = [
            f"{gate} {_threshold(value)}" for gate, value in replay.proposal.thresholds.items()
        ]
        changes += [
            f"{gate} minimum {minimum:,}" for gate, minimum in replay.proposal.min_samples.items()
        ]
        changes += [f"{name} {value}" for name, value in replay.proposal.canary.items()]
        if replay.proposal.point:
            changes.append("point estimates")
        elif replay.proposal.confidence is not None:
            changes.append(f"confidence {replay.proposal.confidence:g}")
        policy = f"the proposed policy ({', '.join(changes) or 'as stored'})"
    unjudged = (
        f"; {_plural(replay.unjudged_runs, 'run')} running or aborted, not judged"
        if replay.unjudged_runs
        else ""
    )
    return (
        f"replay of {replay.environment}, {replay.start:%Y-%m-%d %H:%M} to "
        f"{replay.end:%Y-%m-%d %H:%M} UTC, under {policy}: "
        f"{_plural(len(replay.runs), 'run')} judged again, {len(replay.changed):,} changed"
        f"{unjudged}"
    )


def decisions_headline(replay: RunsReplay) -> str:
    decisions = replay.decisions
    late = sum(1 for d in decisions if d.late_rows)
    return (
        f"canary decisions: {_plural(len(decisions), 'decision')} re-derived under their "
        f"stored policies, {len(replay.decision_discrepancies):,} not as stored"
        + (f", {late:,} with rows that arrived after them (not used)" if late else "")
    )


def proposed_decision_lines(replay: RunsReplay) -> list[str]:
    """Under proposed guardrails: each decision they would have made otherwise."""
    if not replay.proposal or not replay.proposal.canary:
        return []
    changed = replay.decisions_changed
    lines = [
        f"under the proposed guardrails "
        f"({', '.join(f'{k} {v}' for k, v in replay.proposal.canary.items())}): "
        f"{_plural(len(changed), 'decision')} would have been otherwise"
    ]
    lines += [
        f"  decision #{d.decision_id} ({d.decided_at:%Y-%m-%d %H:%M} UTC): "
        f"{d.stored_decision} -> {d.proposed_decision}"
        + (f" (breached: {', '.join(d.proposed_breached)})" if d.proposed_breached else "")
        for d in changed
    ]
    return lines


def _go(hour: int | None, rows: int | None, looks: int) -> str:
    if hour is None:
        return f"no go in {_plural(looks, 'hourly look')}"
    return f"go at hour {hour} ({rows:,} canary rows)"


def rollout_lines(replay: RunsReplay) -> list[str]:
    """Under proposed guardrails: each rollout's time to go, stored beside proposed."""
    if not replay.rollouts:
        return []
    lines = [
        "time to go of each rollout's first step, hourly looks on the data as it is now "
        "(stored guardrails | proposed):"
    ]
    lines += [
        f"  {r.canary} from {r.started_at:%Y-%m-%d %H:%M} UTC: "
        f"{_go(r.stored_go_hour, r.stored_go_canary_rows, r.looks)} | "
        f"{_go(r.proposed_go_hour, r.proposed_go_canary_rows, r.looks)}"
        for r in replay.rollouts
    ]
    return lines


def decision_lines(replay: RunsReplay) -> list[str]:
    """Each decision that is not as stored, with what differs (the first five)."""
    lines = []
    for decision in replay.decision_discrepancies:
        lines.append(
            f"  decision #{decision.decision_id} ({decision.decided_at:%Y-%m-%d %H:%M} UTC): "
            f"stored {decision.stored_decision}, re-derived {decision.replayed_decision}"
        )
        lines += [f"    {problem}" for problem in decision.discrepancies[:5]]
        if len(decision.discrepancies) > 5:
            lines.append(f"    and {len(decision.discrepancies) - 5} more (--json lists them)")
    return lines


def text(replay: RunsReplay) -> str:
    lines = [headline(replay)]
    lines += [f"  {old} -> {new}: {_plural(n, 'run')}" for old, new, n in replay.transitions]
    changed = replay.changed
    if changed:
        lines += ["", table(HEADERS, [_row(run) for run in changed])]
    unchanged = len(replay.runs) - len(changed)
    if unchanged and changed:
        lines += ["", f"{_plural(unchanged, 'run')} judged as stored (--json lists every run)"]
    lines += ["", decisions_headline(replay), *decision_lines(replay)]
    lines += proposed_decision_lines(replay)
    lines += rollout_lines(replay)
    return "\n".join(lines) + "\n"


def markdown(replay: RunsReplay) -> str:
    icon = (
        "❌"
        if replay.decision_discrepancies or (replay.changed and replay.proposal is None)
        else "⚠️"
        if replay.changed
        else "✅"
    )
    lines = [f"## ai-gate replay {icon}", "", headline(replay), "", decisions_headline(replay)]
    if replay.decision_discrepancies:
        lines += ["", "```", *decision_lines(replay), "```"]
    if proposed_decision_lines(replay):
        lines += ["", "```", *proposed_decision_lines(replay), *rollout_lines(replay), "```"]
    lines.append("")
    if replay.transitions:
        lines += [
            "| stored | replayed | runs |",
            "|---|---|---:|",
            *(f"| {old} | {new} | {n:,} |" for old, new, n in replay.transitions),
            "",
        ]
    if replay.changed:
        lines += [
            "| " + " | ".join(HEADERS) + " |",
            "|---|---|---|---|---|",
            *(
                "| " + " | ".join(cell.replace("|", "\\|") for cell in _row(run)) + " |"
                for run in replay.changed
            ),
            "",
        ]
    return "\n".join(lines)
