"""Strict validation of eval record files (library level, no database needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ai_gate.evals.record_reader import read_records
from ai_gate.evals.records import Problem, Record

GOOD = {"sample_id": "a", "schema_valid": True, "safety_html_tailwind_compliant": False}


def scan(tmp_path: Path, content: bytes) -> tuple[list[Record], list[str]]:
    path = tmp_path / "records.jsonl"
    path.write_bytes(content)
    items = list(read_records(path, "records.jsonl"))
    return (
        [item for item in items if isinstance(item, Record)],
        [item.render() for item in items if isinstance(item, Problem)],
    )


def line(**overrides: object) -> str:
    record = {**GOOD, **overrides}
    return json.dumps({k: v for k, v in record.items() if v is not ...})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            line(schema_valid="true"),
            "records.jsonl:1: schema_valid: must be true or false, got string",
        ),
        (line(schema_valid=1), "records.jsonl:1: schema_valid: must be true or false, got number"),
        (line(schema_valid=None), "records.jsonl:1: schema_valid: required (true or false)"),
        (
            line(safety_html_tailwind_compliant=...),
            "records.jsonl:1: safety_html_tailwind_compliant: required (true or false)",
        ),
        (line(sample_id=...), "records.jsonl:1: sample_id: required"),
        (line(sample_id=7), "records.jsonl:1: sample_id: must be a string, got number"),
        (line(sample_id=""), "records.jsonl:1: sample_id: must not be empty"),
        (
            line(patch_apply_success=0),
            "records.jsonl:1: patch_apply_success: must be true, false or null, got number",
        ),
        (
            line(fallback_used="yes"),
            "records.jsonl:1: fallback_used: must be true, false or null, got string",
        ),
        (
            line(latency_ms="12"),
            "records.jsonl:1: latency_ms: must be a number or null, got string",
        ),
        (
            line(latency_ms=True),
            "records.jsonl:1: latency_ms: must be a number or null, got boolean",
        ),
        (line(latency_ms=-1), "records.jsonl:1: latency_ms: must be >= 0, got -1"),
        (
            '{"sample_id": "a", "schema_valid": true, "safety_html_tailwind_compliant": true, '
            '"latency_ms": NaN}',
            "records.jsonl:1: invalid JSON: NaN is not a valid JSON number",
        ),
        (
            '{"sample_id": "a", "schema_valid": true, "safety_html_tailwind_compliant": true, '
            '"latency_ms": Infinity}',
            "records.jsonl:1: invalid JSON: Infinity is not a valid",
        ),
        (
            '{"sample_id": "a", "schema_valid": true, "safety_html_tailwind_compliant": true, '
            '"latency_ms": 1e999}',
            "records.jsonl:1: latency_ms: must be finite",
        ),
        (
            # an integer too large for a float8: a problem, not an OverflowError
            '{"sample_id": "a", "schema_valid": true, "safety_html_tailwind_compliant": true, '
            '"latency_ms": 1' + "0" * 400 + "}",
            "records.jsonl:1: latency_ms: must be finite",
        ),
        (
            '{"sample_id": "a", "sample_id": "b", "schema_valid": true, '
            '"safety_html_tailwind_compliant": true}',
            "records.jsonl:1: sample_id: duplicate key in one object",
        ),
        (
            line(selected_provider=3),
            "records.jsonl:1: selected_provider: must be a string or null, got number",
        ),
        (line(created_at="2026-11-25T10:00:00"), "records.jsonl:1: created_at: needs a UTC offset"),
        (line(created_at="yesterday"), "records.jsonl:1: created_at: not an ISO 8601 timestamp"),
        (line(metadata=[1]), "records.jsonl:1: metadata: must be an object or null, got array"),
        (
            line(metdata={}),
            "records.jsonl:1: metdata: unknown field (put extra data in `metadata`)",
        ),
        (line(case_id="a\u0000b"), "records.jsonl:1: case_id: contains a NUL character"),
        (line(metadata={"x": "\u0000"}), "records.jsonl:1: metadata: contains a NUL character"),
        ("[1, 2]", "records.jsonl:1: expected a JSON object, got array"),
        ('{"sample_id": ', "records.jsonl:1: invalid JSON:"),
    ],
)
def test_each_violation_is_reported_with_file_line_field_and_reason(
    tmp_path: Path, text: str, expected: str
) -> None:
    records, problems = scan(tmp_path, (text + "\n").encode())
    assert records == []
    assert any(problem.startswith(expected) for problem in problems), problems


def test_invalid_utf8_and_raw_nul_bytes(tmp_path: Path) -> None:
    good = line().encode()
    _, problems = scan(tmp_path, good + b"\n" + b'{"sample_id": "\xff"}\n' + b"\x00\n" + good)
    assert problems == [
        "records.jsonl:2: invalid UTF-8 at byte 16 of the line",
        "records.jsonl:3: contains a NUL byte",
    ]


@pytest.mark.parametrize("content", [b"", b"\n\n  \n", b"\xef\xbb\xbf\r\n"])
def test_a_file_without_records_is_a_problem(tmp_path: Path, content: bytes) -> None:
    records, problems = scan(tmp_path, content)
    assert records == []
    assert problems == ["records.jsonl: no records (the file is empty or has only blank lines)"]


def test_bom_crlf_and_blank_lines_are_accepted(tmp_path: Path) -> None:
    content = (
        b"\xef\xbb\xbf"
        + line(sample_id="a").encode()
        + b"\r\n\r\n   \r\n"
        + line(sample_id="b", latency_ms=12).encode()
        + b"\r\n"
    )
    records, problems = scan(tmp_path, content)
    assert problems == []
    assert [record.values["sample_id"] for record in records] == ["a", "b"]
    assert [record.line_number for record in records] == [1, 4]
    assert records[1].values["latency_ms"] == 12.0


def test_a_missing_file_is_a_problem(tmp_path: Path) -> None:
    problems = list(read_records(tmp_path / "absent.jsonl", "absent.jsonl"))
    assert len(problems) == 1
    assert problems[0].render().startswith("absent.jsonl: cannot read:")


def test_the_published_schema_matches_the_validator() -> None:
    from ai_gate.evals.records import ALLOWED_FIELDS, REQUIRED_BOOLEANS

    schema_path = Path(__file__).resolve().parents[2] / "docs" / "eval-record.schema.json"
    schema = json.loads(schema_path.read_text())
    assert set(schema["properties"]) == set(ALLOWED_FIELDS)
    assert set(schema["required"]) == {"sample_id", *REQUIRED_BOOLEANS}
    assert schema["additionalProperties"] is False
    # generated from the metric registry: `python -m ai_gate_tools.record_schema --write`
    from ai_gate_tools import record_schema

    assert schema_path.read_text() == record_schema.render()
    assert record_schema.main(["--check"]) == 0


def test_every_spelling_of_a_valid_record_is_read_as_it_is(tmp_path: Path) -> None:
    """Separators, escapes, nested metadata, optional fields absent or null: each line
    is a record whose values are the line's."""
    import random

    rng = random.Random(5)
    variants = []
    for index in range(300):
        record: dict[str, object] = {
            "sample_id": f"id-{index}",
            "schema_valid": True,
            "safety_html_tailwind_compliant": rng.random() < 0.5,
        }
        for name in ("patch_apply_success", "edit_after_generate", "fallback_used"):
            if rng.random() < 0.6:
                record[name] = rng.choice([True, False, None])
        if rng.random() < 0.7:
            record["latency_ms"] = rng.choice([0, 17, 1234.5, None])
        if rng.random() < 0.3:
            record["metadata"] = rng.choice([{}, {"a": {"b": [1, {"c": 2}]}}, {"q": 'x":y'}])
        if rng.random() < 0.2:
            record["case_id"] = 'tab\there, quote " and \u00e9'
        separators = rng.choice([(",", ":"), (", ", ": "), (",", " : ")])
        variants.append((record, json.dumps(record, separators=separators)))
    records, problems = scan(tmp_path, "\n".join(text for _, text in variants).encode())
    assert problems == []
    assert len(records) == 300
    for (record, _), read in zip(variants, records, strict=True):
        values = read.values
        for name, value in record.items():
            got = values[name]
            got = got.obj if name == "metadata" and got is not None else got
            assert got == value, (name, value, got)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (
            b'{"sample_id":"a","schema_valid":true,"safety_html_tailwind_compliant":true,'
            b'"metadata":{"k":1,"k":2}}',
            "records.jsonl:1: metadata.k: duplicate key in one object",
        ),
        (
            b'{"sample_id":"a","schema_valid":true,"safety_html_tailwind_compliant":true,'
            b'"case_id":"x","case_id" :"y"}',
            "records.jsonl:1: case_id: duplicate key in one object",
        ),
        (
            b'{"sample_id":"a","schema_valid":true,"safety_html_tailwind_compliant":true,'
            b'"case_id":"x","case_id"\r:"y"}',
            "records.jsonl:1: case_id: duplicate key in one object",
        ),
        (
            b'{"sample_id":"a","schema_valid":true,"safety_html_tailwind_compliant":true,'
            b'"case_id":"a\\u0000"}',
            "records.jsonl:1: case_id: contains a NUL character",
        ),
    ],
)
def test_a_duplicate_key_or_nul_is_refused_however_it_is_spelled(
    tmp_path: Path, raw: bytes, problem: str
) -> None:
    assert scan(tmp_path, raw + b"\n") == ([], [problem])


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"sample_id": "x" * 512}, None),
        ({"sample_id": "x" * 513}, "sample_id: longer than 512 characters"),
        ({"sample_id": "\u00e9" * 512}, None),
        ({"sample_id": "\u00e9" * 513}, "sample_id: longer than 512 characters"),
        ({"sample_id": ""}, "sample_id: must not be empty"),
        ({"sample_id": " \t"}, "sample_id: must not be empty"),
        ({"sample_id": "\u2003"}, "sample_id: must not be empty"),
        ({"latency_ms": 0}, None),
        ({"latency_ms": -0.0}, None),
        ({"latency_ms": -1e-300}, "latency_ms: must be >= 0, got -1e-300"),
        ({"latency_ms": 1e308}, None),
        ({"latency_ms": 10**308}, None),
        ({"latency_ms": 10**309}, "latency_ms: must be finite"),
        ({"latency_ms": True}, "latency_ms: must be a number or null, got boolean"),
        ({"schema_valid": 1}, "schema_valid: must be true or false, got number"),
    ],
)
def test_the_bounds_of_the_contract(
    tmp_path: Path, overrides: dict[str, object], reason: str | None
) -> None:
    records, problems = scan(tmp_path, line(**overrides).encode())
    if reason is None:
        assert problems == [] and len(records) == 1
    else:
        assert (records, problems) == ([], [f"records.jsonl:1: {reason}"])


@pytest.mark.parametrize(
    "bad_created_at", [None, "2026-11-25T10:00:03", "2026-11-25T10:00:03+0000x", 7]
)
def test_timestamps_are_read_line_by_line(tmp_path: Path, bad_created_at: object) -> None:
    """Repeated and distinct timestamps among good lines are each read as written; a
    bad one is reported on its own line and the others are still records."""
    from datetime import datetime

    stamps = ["2026-11-25T10:00:00+00:00"] * 3 + [
        "2026-11-25T10:00:01Z",
        "2026-11-25T10:00:02+02:00",
    ]
    good = [line(sample_id=f"s{i}", created_at=stamp) for i, stamp in enumerate(stamps)]
    lines = (
        good if bad_created_at is None else [*good[:2], line(created_at=bad_created_at), *good[2:]]
    )
    records, problems = scan(tmp_path, "\n".join(lines).encode())
    assert [r.values["created_at"] for r in records] == [datetime.fromisoformat(s) for s in stamps]
    assert len(problems) == (0 if bad_created_at is None else 1)
    if problems:
        assert problems[0].startswith("records.jsonl:3: created_at: ")


def unwrap(row: tuple) -> tuple:
    from psycopg.types.json import Jsonb

    return tuple(value.obj if isinstance(value, Jsonb) else value for value in row)


def mixed_file() -> bytes:
    """Valid lines of every shape among lines each path must hand to the precise one."""
    import random

    rng = random.Random(11)
    lines: list[bytes] = []
    for index in range(400):
        kind = rng.random()
        if kind < 0.02:
            lines.append(b"")
        elif kind < 0.03:
            lines.append(
                b'{"sample_id":"dup","schema_valid":true,"schema_valid":false,'
                b'"safety_html_tailwind_compliant":true}'
            )
        elif kind < 0.04:
            lines.append(line(sample_id=f"s{index}", latency_ms=-1).encode())
        elif kind < 0.05:
            lines.append(b'{"sample_id": "\xff"}')
        elif kind < 0.06:
            lines.append(line(sample_id=f"s{index}", case_id="a\u0000b").encode())
        elif kind < 0.08:
            lines.append(json.dumps({**GOOD, "sample_id": f"s{index}"}, indent=None).encode())
        else:
            record = {
                **GOOD,
                "sample_id": f"s{index}",
                "metadata": {"n": index, "x": ['q":y'] * (index % 25 == 0)},
            }
            lines.append(json.dumps(record, separators=(",", ":")).encode())
    return b"\r\n".join(lines[:200]) + b"\r\n" + b"\n".join(lines[200:])  # no final line end


@pytest.mark.parametrize("chunk_bytes", [1, 64, 1000, 1 << 20])
def test_chunking_never_changes_what_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk_bytes: int
) -> None:
    """Records and problems, with their line numbers, are the same whatever the chunk
    size (a chunk boundary inside a line, a line longer than a chunk, a last line
    without a line end) and the same as reading line by line."""
    import ai_gate.evals.record_reader as records_module

    content = b"\xef\xbb\xbf" + mixed_file()
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(content)

    def read() -> list[tuple[object, ...]]:
        return [
            ("record", item.line_number, unwrap(item.row()))
            if isinstance(item, Record)
            else ("problem", item.render())
            for item in read_records(path, "mixed.jsonl")
        ]

    line_by_line = []
    for number, raw in enumerate(content[3:].split(b"\n"), start=1):
        for item in records_module._parse_line(raw, "mixed.jsonl", number):
            line_by_line.append(
                ("record", item.line_number, unwrap(item.row()))
                if isinstance(item, Record)
                else ("problem", item.render())
            )
    monkeypatch.setattr(records_module, "CHUNK_BYTES", chunk_bytes)
    assert read() == line_by_line
    assert sum(1 for item in line_by_line if item[0] == "record") > 300
    assert sum(1 for item in line_by_line if item[0] == "problem") >= 10
