"""The REST API's values as plain Python: aware datetimes in, JSON-shaped dicts and text out."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any


def when(when: date | datetime | str | None) -> datetime | None:
    """An aware datetime (naive times and dates are UTC; strings are ISO), as the models want."""
    if when is None:
        return None
    if isinstance(when, str):
        when = datetime.fromisoformat(when)
    if not isinstance(when, datetime):
        when = datetime(when.year, when.month, when.day, tzinfo=UTC)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def plain(model: Any) -> dict[str, Any]:
    """A response model as the API's JSON: aliases, ISO strings, None kept (no extra keys)."""
    return model.model_dump(mode="json", by_alias=True, exclude={"additional_properties"})


def log_line(line: str | dict[str, Any]) -> str:
    """A structured log event as text, with the exception it carries (type: message)."""
    if isinstance(line, str):
        return line
    errors = [f"{e.get('exc_type')}: {e.get('exc_value')}" for e in line.get("error_detail") or []]
    return " | ".join([str(line.get("event", "")), *errors])
