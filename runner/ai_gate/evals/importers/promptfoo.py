"""promptfoo's results file (`promptfoo eval -o results.json`, results version 3).

One attempt per result (test, prompt, provider and repeat). A check is an assertion's
`metric`: it passed when every assertion naming it passed (`namedScores` is an average,
not a verdict). promptfoo writes no repeat index: the results of one test, prompt and
provider are its repeats, numbered in the file's order (promptfoo writes them in
`testIdx` order). The results are streamed one at a time; the version, which promptfoo
writes after them, is read by a pass of its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from ai_gate.evals.importers import json_stream
from ai_gate.evals.importers.attempts import (
    Attempt,
    Importer,
    ToolFile,
    dollars,
    expect,
    milliseconds,
    token_count,
    verdict,
)

ERROR = 2  # ResultFailureReason.ERROR: the provider or the grading failed to run
WHAT = "a promptfoo results file"


def detect(keys: frozenset[str]) -> bool:
    return {"evalId", "results"} <= keys


def _checks(result: dict, label: str, where: str) -> dict[str, bool | None]:
    checks: dict[str, bool | None] = {}
    grading = result.get("gradingResult") or {}
    for index, component in enumerate(grading.get("componentResults") or []):
        metric = (component.get("assertion") or {}).get("metric")
        if metric is None:
            continue
        passed = verdict(
            component.get("pass"), label, f"{where}.gradingResult.componentResults[{index}].pass"
        )
        checks[metric] = bool(checks.get(metric, True)) and passed
    return checks


def _usage(result: dict, label: str, where: str) -> tuple[int | None, int | None, float | None]:
    """(input tokens, output tokens, cost) of a result. Tokens from the provider's
    response (`response.tokenUsage`), else the result's (`tokenUsage`): `prompt` and
    `completion`; promptfoo writes zeros when the provider reported none, so 0 and 0
    is not reported. The cost from `cost`, which promptfoo sets to 0 when it has no
    price for the provider: a 0 cannot be told from an unpriced provider, so it is
    unknown, not free (priced from the tokens by ai_provider_prices where it can be)."""
    response = result.get("response") if isinstance(result.get("response"), dict) else {}
    usage, at = response.get("tokenUsage"), f"{where}.response.tokenUsage"
    if not isinstance(usage, dict):
        usage, at = result.get("tokenUsage"), f"{where}.tokenUsage"
    tokens: tuple[int | None, int | None] = (None, None)
    if isinstance(usage, dict) and (usage.get("prompt") or usage.get("completion")):
        tokens = (
            token_count(usage.get("prompt") or 0, label, f"{at}.prompt"),
            token_count(usage.get("completion") or 0, label, f"{at}.completion"),
        )
    cost = result.get("cost")
    recorded = None if cost is None else dollars(cost, label, f"{where}.cost")
    return *tokens, (recorded or None)


def _attempts(path: Path, label: str, tool_file: ToolFile) -> Iterator[Attempt]:
    head = json_stream.first_value(path, "results.version", label, WHAT)
    expect(head == 3, label, "results.version", f"ai-gate reads version 3, got {head!r}")
    created_at = json_stream.first_value(path, "results.timestamp", label, WHAT)
    repeats: dict[str, int] = {}
    results = json_stream.Items(path, "results.results.item", label, WHAT)
    for index, result in results:
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
        repeats[key] = repeats.get(key, 0) + 1
        errored = result.get("failureReason") == ERROR
        input_tokens, output_tokens, cost = _usage(result, label, where)
        yield Attempt(
            sample_id=f"t{result.get('testIdx')}-p{result.get('promptIdx')}",
            case_id=case_id,
            provider=provider_name,
            repeat=repeats[key],
            results=_checks(result, label, where),
            error=str(result.get("error") or "error") if errored else None,
            latency_ms=milliseconds(result.get("latencyMs"), 1.0, label, where),
            created_at=created_at if isinstance(created_at, str) else None,
            where=where,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cost_usd=cost,
        )
    tool_file.file_sha256 = results.sha256
    # written after the results and the config: read from the file's end
    tool_file.tool_version = json_stream.tail_string(path, "promptfooVersion", label)


def checks(path: Path, label: str) -> set[str]:
    """The assertion metrics of the file: promptfoo sums each prompt's named scores
    before its results (`results.prompts[].metrics.namedScores`), which names them all
    without reading the results; a file without them is read for its metrics."""
    prompts = json_stream.first_value(path, "results.prompts", label, WHAT)
    named = [
        ((prompt.get("metrics") or {}).get("namedScores") if isinstance(prompt, dict) else None)
        for prompt in (prompts if isinstance(prompts, list) else [])
    ]
    if named and all(isinstance(scores, dict) for scores in named):
        return {name for scores in named for name in scores}  # type: ignore[union-attr]
    prefix = "results.results.item.gradingResult.componentResults.item.assertion.metric"
    return {name for name in json_stream.values(path, prefix, label, WHAT) if isinstance(name, str)}


def read(path: Path, label: str) -> ToolFile:
    eval_id = json_stream.first_value(path, "evalId", label, WHAT)
    tool_file = ToolFile(
        "promptfoo", iter(()), eval_id=eval_id if isinstance(eval_id, str) else None
    )
    tool_file.attempts = _attempts(path, label, tool_file)
    return tool_file


IMPORTER = Importer("promptfoo", WHAT, detect, checks, read)
