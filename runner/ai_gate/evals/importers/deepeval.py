"""deepeval's test run (the JSON it saves: `testCases[].metricsData[]`).

One attempt per test case. A check is a metric's `success`; a metric that errored
(`error` set) has no result, and makes the attempt an errored one. Test cases of the
same name are repeats of one case, in file order. deepeval writes neither its version
nor a run id into the file, nor a provider per test case. Test cases are read one at a
time.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ai_gate.evals.importers import json_stream
from ai_gate.evals.importers.attempts import Attempt, Importer, ToolFile, expect, verdict

WHAT = "a deepeval test run"


def detect(keys: frozenset[str]) -> bool:
    return "testCases" in keys


def _attempts(path: Path, label: str, tool_file: ToolFile) -> Iterator[Attempt]:
    repeats: dict[str, int] = {}
    cases = json_stream.Items(path, "testCases.item", label, WHAT)
    for index, case in cases:
        where = f"testCases[{index}]"
        expect(isinstance(case, dict), label, where, "not an object")
        case_id = (case.get("additionalMetadata") or {}).get("case_id") or case.get("name")
        expect(isinstance(case_id, str) and bool(case_id), label, where, "no name")
        repeats[case_id] = repeats.get(case_id, 0) + 1
        results: dict[str, bool | None] = {}
        errors = []
        for position, metric in enumerate(case.get("metricsData") or []):
            at = f"{where}.metricsData[{position}]"
            name = metric.get("name") if isinstance(metric, dict) else None
            expect(isinstance(name, str), label, at, "a metric without a name")
            if metric.get("error"):
                results[name] = None
                errors.append(f"{name}: {metric['error']}")
            else:
                results[name] = verdict(metric.get("success"), label, f"{at} ({name}).success")
        yield Attempt(
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
    tool_file.file_sha256 = cases.sha256


def checks(path: Path, label: str) -> set[str]:
    names = json_stream.values(path, "testCases.item.metricsData.item.name", label, WHAT)
    return {name for name in names if isinstance(name, str)}


def read(path: Path, label: str) -> ToolFile:
    tool_file = ToolFile("deepeval", iter(()))
    tool_file.attempts = _attempts(path, label, tool_file)
    return tool_file


IMPORTER = Importer("deepeval", WHAT, detect, checks, read)
