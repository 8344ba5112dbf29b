"""promptfoo's results file (`promptfoo eval -o results.json`, results version 3).

One attempt per result (test, prompt, provider and repeat). A check is an assertion's
`metric`: it passed when every assertion naming it passed (`namedScores` is an average,
not a verdict). promptfoo writes no repeat index: the results of one test, prompt and
provider are its repeats, in `testIdx` order.
"""

from __future__ import annotations

import json

from ai_gate.evals.importers.attempts import Attempt, ToolFile, expect, milliseconds

ERROR = 2  # ResultFailureReason.ERROR: the provider or the grading failed to run


def detect(document: object) -> bool:
    results = document.get("results") if isinstance(document, dict) else None
    return (
        isinstance(results, dict)
        and isinstance(results.get("results"), list)
        and "version" in results
        and "evalId" in document  # type: ignore[operator]
    )


def _checks(result: dict, label: str, where: str) -> dict[str, bool | None]:
    checks: dict[str, bool | None] = {}
    grading = result.get("gradingResult") or {}
    for component in grading.get("componentResults") or []:
        metric = (component.get("assertion") or {}).get("metric")
        if metric is None:
            continue
        expect(isinstance(component.get("pass"), bool), label, where, "assertion without pass")
        checks[metric] = bool(checks.get(metric, True)) and component["pass"]
    return checks


def read(document: object, label: str) -> ToolFile:
    assert isinstance(document, dict)
    body = document["results"]
    expect(body.get("version") == 3, label, "results.version", "ai-gate reads version 3")
    created_at = body.get("timestamp")
    groups: dict[str, int] = {}
    attempts = []
    rows = sorted(
        enumerate(body["results"]),
        key=lambda item: (item[1].get("testIdx", 0), item[1].get("promptIdx", 0)),
    )
    for index, result in rows:
        where = f"results.results[{index}]"
        expect(isinstance(result, dict), label, where, "not an object")
        test = result.get("testCase") or {}
        provider = result.get("provider") or {}
        provider_name = provider.get("label") or provider.get("id")
        case_id = (test.get("metadata") or {}).get("case_id") or test.get("description")
        expect(isinstance(case_id, str) and bool(case_id), label, where, "no case id")
        # a repeat of the same test: same description, vars, prompt and provider
        key = json.dumps(
            [test.get("description"), test.get("vars"), result.get("promptIdx"), provider_name],
            sort_keys=True,
            default=str,
        )
        groups[key] = groups.get(key, 0) + 1
        errored = result.get("failureReason") == ERROR
        attempts.append(
            Attempt(
                sample_id=f"t{result.get('testIdx')}-p{result.get('promptIdx')}",
                case_id=case_id,
                provider=provider_name,
                repeat=groups[key],
                results=_checks(result, label, where),
                error=str(result.get("error") or "error") if errored else None,
                latency_ms=milliseconds(result.get("latencyMs"), 1.0, label, where),
                created_at=created_at,
                where=where,
            )
        )
    version = (document.get("metadata") or {}).get("promptfooVersion")
    return ToolFile("promptfoo", version, document.get("evalId"), attempts)
