"""inspect-ai's JSON log (`inspect eval --log-format json`, or `inspect log convert`).

One attempt per sample and epoch. A check is a scorer's value: `C`/`I`, true/false or
1/0; a scorer that returns several values gives one check per key (`scorer.key`). An
errored sample (`error` set) has no scores.
"""

from __future__ import annotations

from ai_gate.evals.importers.attempts import Attempt, ToolFile, expect, milliseconds

LETTERS = {"C": True, "I": False}


def detect(document: object) -> bool:
    return (
        isinstance(document, dict)
        and isinstance(document.get("eval"), dict)
        and "task" in document["eval"]
        and "version" in document
    )


def _verdict(value: object, label: str, where: str) -> bool:
    if isinstance(value, bool):  # before int: True is an int too
        return value
    if isinstance(value, str) and value in LETTERS:
        return LETTERS[value]
    is_number = isinstance(value, int | float)
    expect(
        is_number and value in (0, 1),
        label,
        where,
        f"a score must be C or I, true or false, 1 or 0 to be a check; got {value!r}",
    )
    return value == 1


def _checks(sample: dict, label: str, where: str) -> dict[str, bool | None]:
    checks: dict[str, bool | None] = {}
    for scorer, score in (sample.get("scores") or {}).items():
        value = (score or {}).get("value")
        if isinstance(value, dict):
            for key, item in value.items():
                checks[f"{scorer}.{key}"] = _verdict(item, label, f"{where}.scores.{scorer}")
        else:
            checks[scorer] = _verdict(value, label, f"{where}.scores.{scorer}")
    return checks


def read(document: object, label: str) -> ToolFile:
    assert isinstance(document, dict)
    header = document["eval"]
    samples = document.get("samples")
    expect(
        isinstance(samples, list),
        label,
        "samples",
        "the log has no samples (a header-only log: write it with its samples)",
    )
    attempts = []
    for index, sample in enumerate(samples):  # type: ignore[arg-type]
        where = f"samples[{index}]"
        expect(isinstance(sample, dict) and "id" in sample, label, where, "no sample id")
        epoch = sample.get("epoch", 1)
        error = sample.get("error")
        attempts.append(
            Attempt(
                sample_id=f"{sample['id']}#{epoch}",
                case_id=str(sample["id"]),
                provider=(sample.get("output") or {}).get("model") or header.get("model"),
                repeat=int(epoch),
                results=_checks(sample, label, where),
                error=str(error.get("message") or "error") if error else None,
                latency_ms=milliseconds(sample.get("total_time"), 1000.0, label, where),
                created_at=header.get("created"),
                where=where,
            )
        )
    version = (header.get("packages") or {}).get("inspect_ai")
    return ToolFile("inspect-ai", version, header.get("eval_id"), attempts)
