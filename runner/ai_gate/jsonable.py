"""One encoder from ai-gate's dataclasses to JSON-ready data: each field under its own
name (nested dataclasses too), datetimes in ISO 8601, tuples as lists. A class that
mixes in `JsonFields` has `as_json()` from it; no field list is written by hand.
(The published report shapes, RunVerdict.as_json and DailyOutcome.as_json, rename and
summarise fields on purpose and stay explicit.)"""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from datetime import date
from typing import ClassVar
from uuid import UUID


def plain(value: object) -> object:
    if is_dataclass(value) and not isinstance(value, type):
        data = {field.name: plain(getattr(value, field.name)) for field in fields(value)}
        for name in getattr(value, "JSON_PROPERTIES", ()):
            data[name] = plain(getattr(value, name))
        return data
    if isinstance(value, date):  # datetimes too
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, UUID):
        return str(value)
    return value


class JsonFields:
    """`as_json()`: the dataclass's fields, then its JSON_PROPERTIES, through `plain`."""

    JSON_PROPERTIES: ClassVar[tuple[str, ...]] = ()

    def as_json(self) -> dict[str, object]:
        return plain(self)  # type: ignore[return-value]
