"""Check a posted batch of schema v1 events and turn it into pseudonymized rows for the log.

The rules are the daily gate's, run the same way: values converted by `landing.typed` (what
does not convert is named per row), then the reviewed `events` GX suite through
`expectations.landing_gate.validate_rows`, with the batch's values from
`expectations.checks.collected_event_parameters`. Users and request ids become pseudonyms with
the importer's `event_pseudonyms`, so collected and imported events join. A batch is accepted
whole or refused whole; a refusal lists every bad event by index and field.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import pandas as pd
import pyarrow as pa

from engageflow import schema
from engageflow.importer.land import event_pseudonyms
from engageflow.landing import CONVERSION_ERRORS, typed
from engageflow.pseudonym import DIGEST_CHARS, PREFIX
from engageflow.settings import CollectorConfig, ImporterConfig
from expectations.checks import collected_event_parameters
from expectations.gate import Validation, load_suite
from expectations.landing_gate import validate_rows

PSEUDONYM = re.compile(rf"{PREFIX}[0-9a-f]{{{DIGEST_CHARS}}}")
# What to send instead, by the kind of rule an event broke.
FIXES = {
    "expect_column_values_to_not_be_null": "the field is required; send it",
    "expect_column_values_to_be_unique": "event ids repeat in the batch; give each event its own",
    "expect_column_values_to_be_in_set": "send one of the allowed values",
    "expect_column_values_to_be_between": "send a value within the bounds",
}
TYPE_FIXES = {
    "ts": "send ISO 8601 with a zone, e.g. 2026-01-01T08:00:00Z",
    "dwell_seconds": "send a number",
    "propensity": "send a number",
    "position": "send a whole number",
    "hour": "send a whole number",
}
_GX_LOCK = threading.Lock()  # one GX context per process; its validations are not thread-safe


@dataclass(frozen=True)
class Problem:
    event: int | None  # index in the batch; None for the batch as a whole
    field: str | None
    problem: str
    fix: str

    def __str__(self) -> str:
        where = "batch" if self.event is None else f"event {self.event}"
        field = f", field {self.field!r}" if self.field else ""
        return f"{where}{field}: {self.problem}; {self.fix}"


class BadBatch(ValueError):
    """A refused batch: nothing of it was stored; `problems` names each bad event and field."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        shown = "\n".join(f"  {p}" for p in self.problems[:20])
        more = len(self.problems) - 20
        super().__init__(
            "the batch was refused whole, nothing was stored:\n"
            + shown
            + (f"\n  ... and {more} more" if more > 0 else "")
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "error": str(self),
            "problems": [p.__dict__ for p in self.problems],
        }


def as_text(events: Sequence[Any], max_events: int) -> pa.Table:
    """The batch as a table of the schema's columns, every value as text (a missing field is
    null), like a CSV drop read by the gate; refuses unknown fields and non-scalar values."""
    if not events:
        raise BadBatch([Problem(None, "events", "the batch is empty", "send 1 or more events")])
    if len(events) > max_events:
        raise BadBatch(
            [
                Problem(
                    None,
                    "events",
                    f"{len(events)} events, more than collector.max_batch_events ({max_events})",
                    f"split it into batches of at most {max_events}",
                )
            ]
        )
    problems, columns = [], {name: [] for name in schema.EVENTS.names}
    for index, event in enumerate(events):
        if not isinstance(event, dict):
            problems.append(Problem(index, None, "not a JSON object", "send one object per event"))
            continue
        for name in sorted(set(event) - set(columns)):
            problems.append(
                Problem(index, name, "not a field of schema v1", f"use only {schema.EVENTS.names}")
            )
        for name, values in columns.items():
            value = event.get(name)
            if isinstance(value, dict | list | bool):
                problems.append(
                    Problem(index, name, f"got {value!r}", "send a string, a number or null")
                )
            values.append(None if value is None else str(value))
    if problems:
        raise BadBatch(problems)
    return pa.table({name: pa.array(values, pa.string()) for name, values in columns.items()})


def check_batch(
    events: Sequence[Any], collector: CollectorConfig, importer: ImporterConfig, now: pd.Timestamp
) -> pa.Table:
    """The batch in schema v1, or BadBatch naming every event that breaks a rule."""
    raw = as_text(events, collector.max_batch_events)
    rows = typed(raw, schema.EVENTS)
    parameters = collected_event_parameters(
        now, collector.max_event_age, importer.future_tolerance, collector.max_batch_events
    )
    with _GX_LOCK:
        checked = validate_rows(rows, "events", parameters)
    problems = _problems(checked, raw, rows) + _pseudonyms_given(raw)
    if problems:
        raise BadBatch(
            sorted(problems, key=lambda p: (-1 if p.event is None else p.event, p.field or ""))
        )
    return schema.conform(rows.drop_columns([CONVERSION_ERRORS]), schema.EVENTS, "batch")


def pseudonymized(events: pa.Table, key: bytes) -> pa.Table:
    """User and request ids replaced by their pseudonyms, exactly as the importer makes them."""
    frame = events.select(["user_id", "item_id", "ts", "request_id"]).to_pandas()
    users, requests = event_pseudonyms(
        frame["user_id"], frame["item_id"], frame["ts"], frame["request_id"], key
    )
    out = events.set_column(
        events.schema.get_field_index("user_id"), "user_id", pa.array(users, pa.string())
    )
    at = out.schema.get_field_index("request_id")
    return out.set_column(at, "request_id", pa.array(requests, pa.string()))


def _problems(checked: Validation, raw: pa.Table, rows: pa.Table) -> list[Problem]:
    found = []
    for index, rules in checked.row_failures.items():
        for rule in rules:
            kind, _, field = rule.rstrip(")").partition("(")
            if field == CONVERSION_ERRORS:
                found += _conversion(index, rows[CONVERSION_ERRORS][index].as_py(), raw)
                continue
            got = raw[field][index].as_py() if field in raw.column_names else None
            found.append(Problem(index, field, f"breaks {kind} (got {got!r})", _fix(kind, field)))
    # A value that did not convert is null in the typed rows: say so once, not as "missing" too.
    unconverted = {(p.event, p.field) for p in found if p.fix == TYPE_FIXES.get(p.field or "")}
    found = [
        p for p in found if p.fix in TYPE_FIXES.values() or (p.event, p.field) not in unconverted
    ]
    found += [Problem(None, None, failure, "fix the batch") for failure in checked.batch_failures]
    return found


def _fix(kind: str, field: str) -> str:
    """What to send instead, with the suite's own bounds or value set where it has them."""
    if field == "ts":
        return (
            "send a time between collector.max_event_age before now and "
            "importer.future_tolerance after it (import older events with import-events)"
        )
    kwargs = _suite_kwargs().get((kind, field), {})
    if "value_set" in kwargs:
        return f"send one of {kwargs['value_set']}"
    bounds = {k: kwargs[k] for k in ("min_value", "max_value") if kwargs.get(k) is not None}
    return f"send a value within {bounds}" if bounds else FIXES[kind]


@cache
def _suite_kwargs() -> dict[tuple[str, str], dict[str, Any]]:
    """The reviewed `events` suite's arguments by (expectation type, column)."""
    return {
        (e.configuration.type, e.configuration.kwargs.get("column")): dict(e.configuration.kwargs)
        for e in load_suite("events").expectations
    }


def _conversion(index: int, errors: str, raw: pa.Table) -> list[Problem]:
    """One problem per field named by `landing.typed` as not converting to its type."""
    out = []
    for part in errors.split("; "):
        field, _, what = part.partition(" ")
        got = raw[field][index].as_py()
        out.append(Problem(index, field, f"{what} (got {got!r})", TYPE_FIXES.get(field, "")))
    return out


def _pseudonyms_given(raw: pa.Table) -> list[Problem]:
    """The collector pseudonymizes: a user id that already is a pseudonym would be hashed
    twice and join nothing."""
    return [
        Problem(
            index,
            "user_id",
            f"{value!r} is already a pseudonym",
            "send the raw user id: the collector pseudonymizes it with the platform's key",
        )
        for index, value in enumerate(raw["user_id"].to_pylist())
        if value is not None and PSEUDONYM.fullmatch(value)
    ]
