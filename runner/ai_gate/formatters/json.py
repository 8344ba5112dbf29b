"""Every JSON document ai-gate prints (`--json`) or writes (`--report-json`): one
function per output, each returning the text with a final newline."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from ai_gate.routing.change_log import HistoryEntry
from ai_gate.routing.configuration import ProviderConfig
from ai_gate.routing.traffic import traffic_shares

if TYPE_CHECKING:
    from ai_gate.evals.replay import RunsReplay
    from ai_gate.evals.verdicts import RunVerdict
    from ai_gate.rollout.canary import Decision
    from ai_gate.rollout.dossier import DossierEntry
    from ai_gate.rollout.drill import DrillEvidence
    from ai_gate.telemetry.latency import LatencyRow
    from ai_gate.telemetry.usage import UsageRow


# Floats to 12 significant digits: the measurements' precision, without the binary
# noise of the last digits (26626.10999999999 is written 26626.11).
SIGNIFICANT_DIGITS = 12


def _rounded(value: object) -> object:
    if isinstance(value, float):
        return float(f"{value:.{SIGNIFICANT_DIGITS}g}")
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(item) for item in value]
    return value


def _dumps(payload: object, **options: object) -> str:
    return json.dumps(_rounded(payload), indent=2, default=str, **options) + "\n"  # type: ignore[arg-type]


def verdict_report(verdict: RunVerdict) -> str:
    return _dumps(verdict.as_json())


def configs(configs: Sequence[ProviderConfig]) -> str:
    shares = traffic_shares(configs)
    payload = [
        {
            **{k: v for k, v in vars(config).items() if k != "last_changed_at"},
            "last_changed_at": config.last_changed_at.isoformat()
            if config.last_changed_at
            else None,
            "traffic_share": round(shares[(config.environment, config.provider)], 6),
        }
        for config in configs
    ]
    return _dumps(payload, sort_keys=True)


def history(entries: Sequence[HistoryEntry]) -> str:
    return _dumps([entry.as_json() for entry in entries])


def decision(decision: Decision) -> str:
    return _dumps(decision.as_json())


def drill(evidence: DrillEvidence) -> str:
    return _dumps(evidence.as_json())


def latency(start: datetime, end: datetime, exact: bool, rows: Sequence[LatencyRow]) -> str:
    return _dumps(
        {
            "since": start.isoformat(),
            "until": end.isoformat(),
            "exact": exact,
            "rows": [row.as_json() for row in rows],
        }
    )


def usage(start: datetime, end: datetime, rows: Sequence[UsageRow]) -> str:
    return _dumps(
        {
            "since": start.isoformat(),
            "until": end.isoformat(),
            "rows": [row.as_json() for row in rows],
        }
    )


def replay(replay: RunsReplay) -> str:
    """For a pull request's check: per run and gate, the stored beside the replayed
    status (every run of the window, the changed ones first)."""
    return _dumps(
        {
            "environment": replay.environment,
            "since": replay.start.isoformat(),
            "until": replay.end.isoformat(),
            "policy": "stored" if replay.proposal is None else "proposed",
            "proposal": None if replay.proposal is None else replay.proposal.as_json(),
            "runs_replayed": len(replay.runs),
            "runs_changed": len(replay.changed),
            "runs_not_judged": replay.unjudged_runs,
            "transitions": [
                {"stored_status": old, "replayed_status": new, "runs": n}
                for old, new, n in replay.transitions
            ],
            "discrepancies": [run.run_id for run in replay.discrepancies],
            "runs": [run.as_json() for run in replay.runs],
            "decision_discrepancies": [d.decision_id for d in replay.decision_discrepancies],
            "decisions_changed": [d.decision_id for d in replay.decisions_changed],
            "decisions": [decision.as_json() for decision in replay.decisions],
            "rollouts": [rollout.as_json() for rollout in replay.rollouts],
        }
    )


def dossier(
    environment: str, start: datetime, end: datetime, entries: Sequence[DossierEntry]
) -> str:
    return _dumps(
        {
            "environment": environment,
            "since": start.isoformat(),
            "until": end.isoformat(),
            "changes": [entry.as_json() for entry in entries],
        }
    )
