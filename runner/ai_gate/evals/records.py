"""Evaluation records: strict, streaming validation of a JSONL file.

One JSON object per line; the contract is docs/eval-record.schema.json. A UTF-8 BOM,
CRLF line ends and blank lines are accepted. Everything else that is not exactly the
contract is a problem reported as `FILE:LINE: field: reason`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from psycopg.types.json import Jsonb

from ai_gate.evals.metrics import amount_fields, boolean_fields, mean_fields

# The rate metrics' fields (dbt_project.yml, vars eval_metrics).
REQUIRED_BOOLEANS = boolean_fields(required=True)
OPTIONAL_BOOLEANS = boolean_fields(required=False)
# The amounts' fields (numbers >= 0, or integers), each optional: the quantiles'
# (latency_ms) in their place in the sample table, the means' (usage) at its end.
QUANTILE_FIELDS = tuple(m.field for m in amount_fields() if m.kind == "quantile")
MEAN_FIELDS = tuple(m.field for m in mean_fields())
AMOUNT_FIELDS = frozenset((*QUANTILE_FIELDS, *MEAN_FIELDS))
INTEGER_FIELDS = frozenset(m.field for m in amount_fields() if m.value_type == "integer")
# The usage fields a cost is known from (docs/cost.md): a recorded cost, else the
# tokens priced at the provider's price in force (the database's ai_gate_cost_usd).
COST_FIELD = "cost_usd"
TOKEN_FIELDS = ("input_tokens", "output_tokens")
if not {COST_FIELD, *TOKEN_FIELDS} <= set(MEAN_FIELDS):  # pragma: no cover
    raise RuntimeError("dbt_project.yml: the usage metrics' fields are missing")
# PostgreSQL's bigint: an integer amount beyond it cannot be stored.
MAX_INTEGER_AMOUNT = 2**63 - 1
OPTIONAL_STRINGS = (
    "requested_provider",
    "selected_provider",
    "route_strategy",
    "case_id",
    "prompt_template_version",
    "model",
)
ALLOWED_FIELDS = frozenset(
    (
        "sample_id",
        *REQUIRED_BOOLEANS,
        *OPTIONAL_BOOLEANS,
        *OPTIONAL_STRINGS,
        *QUANTILE_FIELDS,
        *MEAN_FIELDS,
        "created_at",
        "metadata",
    )
)
# Column order of ai_eval_samples that `Record.row` follows (after run_id).
SAMPLE_COLUMNS = (
    "sample_id",
    "line_number",
    "case_id",
    *REQUIRED_BOOLEANS,
    *OPTIONAL_BOOLEANS,
    *QUANTILE_FIELDS,
    "requested_provider",
    "selected_provider",
    "route_strategy",
    "prompt_template_version",
    "created_at",
    "metadata",
    *MEAN_FIELDS,
    "model",
)
# PostgreSQL types of SAMPLE_COLUMNS, for binary COPY (about 2.5 times cheaper per row
# on the client than text COPY, which matters at hundreds of thousands of rows/s).
SAMPLE_COPY_TYPES = (
    "text",
    "int4",
    "text",
    *("bool" for _ in (*REQUIRED_BOOLEANS, *OPTIONAL_BOOLEANS)),
    *("float8" for _ in QUANTILE_FIELDS),
    "text",
    "text",
    "text",
    "text",
    "timestamptz",
    "jsonb",
    *("int8" if field in INTEGER_FIELDS else "float8" for field in MEAN_FIELDS),
    "text",
)
MAX_SAMPLE_ID_LENGTH = 512
# How deep `metadata` may nest (an object or array inside another counts one level).
MAX_METADATA_DEPTH = 32
# Unpaired UTF-16 surrogates: JSON's \ud800 escapes decode to them, and no UTF-8 text
# (so no PostgreSQL text) can hold one.
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    field: str | None
    reason: str
    # The line's sample_id, when it had a usable one: a rejected line's id still
    # counts when looking for duplicates.
    sample_id: str | None = None
    # where the problem is, when not a line of `file` (a place in another tool's file,
    # already with the file's name: `results.json: results.results[3]`)
    location: str | None = None

    def render(self) -> str:
        if self.location is not None:
            where = self.location
        else:
            where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.field}: {self.reason}" if self.field else f"{where}: {self.reason}"


class Record(tuple):
    """One valid record: its ai_eval_samples row (SAMPLE_COLUMNS order, metadata
    wrapped as Jsonb), which holds its line number. A tuple, so that ingest builds one
    object per line in C."""

    __slots__ = ()

    @property
    def line_number(self) -> int:
        return self[1]

    def row(self) -> tuple[object, ...]:
        return self

    @property
    def values(self) -> dict[str, object]:
        return {
            name: value
            for name, value in zip(SAMPLE_COLUMNS, self, strict=True)
            if name != "line_number"
        }


# A sample is recorded after it ran; a clock a little ahead is tolerated, a timestamp
# days or centuries ahead (9999-12-31T23:59:59-14:00 is year 10000 in UTC) is a bug.
FUTURE_TOLERANCE = timedelta(days=1)


def _latest_created_at() -> datetime:
    return datetime.now(UTC) + FUTURE_TOLERANCE


def _row_from_values(line_number: int, values: dict[str, object]) -> tuple[object, ...]:
    metadata = values.get("metadata")
    return tuple(
        line_number
        if name == "line_number"
        else (
            (None if metadata is None else Jsonb(metadata))
            if name == "metadata"
            else values.get(name)
        )
        for name in SAMPLE_COLUMNS
    )


def _depth(value: object) -> int:
    """Nesting depth of a decoded JSON value (a scalar is 0), without recursion."""
    deepest = 0
    stack = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            level += 1
            deepest = max(deepest, level)
            if level <= MAX_METADATA_DEPTH:
                children = item.values() if isinstance(item, dict) else item
                stack.extend((child, level) for child in children)
    return deepest


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _bad_character(value: object) -> str | None:
    """Why a string in `value` (keys included) cannot be stored as PostgreSQL text, or
    None: a NUL, or an unpaired surrogate. `value` is at most MAX_METADATA_DEPTH deep."""
    if isinstance(value, str):
        if "\x00" in value:
            return "contains a NUL character"
        found = _SURROGATE.search(value)
        if found:
            return f"contains an unpaired surrogate (\\u{ord(found.group()):04x})"
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            reason = _bad_character(key) or _bad_character(item)
            if reason:
                return reason
    elif isinstance(value, list):
        for item in value:
            reason = _bad_character(item)
            if reason:
                return reason
    return None


def _printable_key(key: str) -> str:
    return key.encode("unicode_escape").decode("ascii") if _bad_character(key) else key


def _non_finite(value: object) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_non_finite(v) for v in value.values())
    if isinstance(value, list):
        return any(_non_finite(item) for item in value)
    return False


def _as_float(number: int | float) -> float:
    """An integer too large for a float (JSON allows any size) is infinite, not an
    OverflowError."""
    try:
        return float(number)
    except OverflowError:
        return math.inf


def _amount_problem(value: object, integer: bool) -> str | None:
    """Why a usage or latency amount is refused, or None: a number >= 0 (an integer
    amount a whole number that fits a bigint), finite."""
    if integer:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"must be an integer >= 0 or null, got {_type_name(value)}"
        if value < 0:
            return f"must be >= 0, got {value}"
        if value > MAX_INTEGER_AMOUNT:
            return f"must be at most {MAX_INTEGER_AMOUNT}, got {value}"
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"must be a number or null, got {_type_name(value)}"
    if not math.isfinite(_as_float(value)):
        return "must be finite"
    if value < 0:
        return f"must be >= 0, got {value}"
    return None


def _parse_created_at(created_at: object) -> tuple[datetime | None, str | None]:
    """(the timestamp, None), or (None, why it is refused); (None, None) when absent."""
    if created_at is None:
        return None, None
    if not isinstance(created_at, str):
        return None, f"must be an ISO 8601 string, got {_type_name(created_at)}"
    try:
        parsed = datetime.fromisoformat(created_at)
    except ValueError:
        return None, f"not an ISO 8601 timestamp: {created_at!r}"
    if parsed.tzinfo is None:
        return None, f"needs a UTC offset (e.g. +00:00 or Z): {created_at!r}"
    if parsed > _latest_created_at():
        return None, f"more than {FUTURE_TOLERANCE.days} day in the future: {created_at!r}"
    return parsed, None


def validate_object(obj: object, file: str, line: int) -> tuple[Record | None, list[Problem]]:
    """Check one decoded line against the record contract."""
    problems: list[Problem] = []

    def problem(field: str | None, reason: str) -> None:
        problems.append(Problem(file, line, field, reason))

    if not isinstance(obj, dict):
        problem(None, f"expected a JSON object, got {_type_name(obj)}")
        return None, problems
    for key in obj:
        if key not in ALLOWED_FIELDS:
            problem(key, "unknown field (put extra data in `metadata`)")
    sample_id = obj.get("sample_id")
    if "sample_id" not in obj:
        problem("sample_id", "required")
    elif not isinstance(sample_id, str):
        problem("sample_id", f"must be a string, got {_type_name(sample_id)}")
    elif not sample_id.strip():
        problem("sample_id", "must not be empty")
    elif len(sample_id) > MAX_SAMPLE_ID_LENGTH:
        problem("sample_id", f"longer than {MAX_SAMPLE_ID_LENGTH} characters")
    for field in REQUIRED_BOOLEANS:
        if field not in obj or obj[field] is None:
            problem(field, "required (true or false)")
        elif not isinstance(obj[field], bool):
            problem(field, f"must be true or false, got {_type_name(obj[field])}")
    for field in OPTIONAL_BOOLEANS:
        value = obj.get(field)
        if value is not None and not isinstance(value, bool):
            problem(field, f"must be true, false or null, got {_type_name(value)}")
    for field in OPTIONAL_STRINGS:
        value = obj.get(field)
        if value is not None and not isinstance(value, str):
            problem(field, f"must be a string or null, got {_type_name(value)}")
    amounts = {}
    for field in (*QUANTILE_FIELDS, *MEAN_FIELDS):  # registry order
        value = obj.get(field)
        if value is None:
            continue
        reason = _amount_problem(value, field in INTEGER_FIELDS)
        if reason:
            problem(field, reason)
        else:
            amounts[field] = value if field in INTEGER_FIELDS else float(value) + 0.0
    parsed_created_at, created_at_problem = _parse_created_at(obj.get("created_at"))
    if created_at_problem:
        problem("created_at", created_at_problem)
    metadata = obj.get("metadata")
    too_deep = False
    if metadata is not None and not isinstance(metadata, dict):
        problem("metadata", f"must be an object or null, got {_type_name(metadata)}")
    elif metadata is not None and _depth(metadata) > MAX_METADATA_DEPTH:
        problem("metadata", f"nested deeper than {MAX_METADATA_DEPTH} levels")
        too_deep = True
    for key, value in obj.items():
        if key == "metadata" and too_deep:
            continue
        reason = _bad_character(key) or _bad_character(value)
        if reason:
            problem(_printable_key(key), reason)
        elif key not in AMOUNT_FIELDS and _non_finite(value):  # amounts are checked above
            problem(key, "contains a number that is not finite")
    if problems:
        usable_id = (
            sample_id
            if isinstance(sample_id, str) and sample_id.strip() and not _bad_character(sample_id)
            else None
        )
        if usable_id is not None:
            problems = [Problem(p.file, p.line, p.field, p.reason, usable_id) for p in problems]
        return None, problems
    values = dict(obj)
    if parsed_created_at is not None:
        values["created_at"] = parsed_created_at
    values.update(amounts)  # -0.0 is stored as 0
    return Record(_row_from_values(line, values)), []


def reject_json_constant(name: str) -> float:
    """A `parse_constant` for Python's json: NaN, Infinity and -Infinity are no JSON."""
    raise ValueError(f"{name} is not a valid JSON number")
