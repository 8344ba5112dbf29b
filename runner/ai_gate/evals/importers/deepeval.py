"""deepeval's test run (the JSON it saves: `testCases[].metricsData[]`).

One attempt per test case. A check is a metric's `success`; a metric that errored
(`error` set) has no result, and makes the attempt an errored one. Test cases of the
same name are repeats of one case, in file order. deepeval writes neither its version
nor a run id into the file, nor a provider per test case.
"""

from __future__ import annotations

from ai_gate.evals.importers.attempts import Attempt, ToolFile, expect


def detect(document: object) -> bool:
    return isinstance(document, dict) and isinstance(document.get("testCases"), list)


def read(document: object, label: str) -> ToolFile:
    assert isinstance(document, dict)
    repeats: dict[str, int] = {}
    attempts = []
    for index, case in enumerate(document["testCases"]):
        where = f"testCases[{index}]"
        expect(isinstance(case, dict), label, where, "not an object")
        case_id = (case.get("additionalMetadata") or {}).get("case_id") or case.get("name")
        expect(isinstance(case_id, str) and bool(case_id), label, where, "no name")
        repeats[case_id] = repeats.get(case_id, 0) + 1
        results: dict[str, bool | None] = {}
        errors = []
        for metric in case.get("metricsData") or []:
            name = metric.get("name")
            expect(isinstance(name, str), label, f"{where}.metricsData", "metric without name")
            if metric.get("error"):
                results[name] = None
                errors.append(f"{name}: {metric['error']}")
            else:
                expect(isinstance(metric.get("success"), bool), label, where, f"{name}: success")
                results[name] = metric["success"]
        attempts.append(
            Attempt(
                sample_id=f"{case_id}#{repeats[case_id]}",
                case_id=case_id,
                provider=None,
                repeat=repeats[case_id],
                results=results,
                error="; ".join(errors) or None,
                latency_ms=None,
                created_at=None,
                where=where,
            )
        )
    return ToolFile("deepeval", None, None, attempts)
