"""The collector's batch check: the gate's rules per batch, every bad event named by index and
field, and pseudonyms equal to the importer's, so collected and imported events join."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from engageflow.importer import ColumnMapping, import_events
from engageflow.pseudonym import load_key, pseudonym
from engageflow.schema import EventType
from engageflow.settings import Settings
from serving.collect import BadBatch, check_batch, pseudonymized

NOW = pd.Timestamp("2026-03-01T12:00:00Z")


def event(i: int = 0, **changes: object) -> dict:
    base = {
        "event_id": f"e{i}",
        "ts": "2026-03-01T08:15:09Z",
        "user_id": "alice@example.com",
        "item_id": "a17",
        "event_type": "click",
        "dwell_seconds": 94.5,
        "position": 2,
        "request_id": "session-1",
        "device": "mobile",
        "hour": 8,
    }
    return base | changes


def refused(settings: Settings, events: list) -> list[tuple[int | None, str | None]]:
    with pytest.raises(BadBatch) as caught:
        check_batch(events, settings.collector, settings.importer, NOW)
    return [(p.event, p.field) for p in caught.value.problems]


def test_a_good_batch_passes_in_schema_v1(settings: Settings) -> None:
    checked = check_batch([event(0), event(1)], settings.collector, settings.importer, NOW)
    assert checked.num_rows == 2
    assert checked.column("dwell_seconds").to_pylist() == [94.5, 94.5]
    assert str(checked.column("ts")[0].as_py()) == "2026-03-01 08:15:09+00:00"


def test_a_time_given_as_a_number_is_refused_naming_ts(settings: Settings) -> None:
    # The gate reads times as zoned ISO 8601 only; a number is not one.
    assert refused(settings, [event(0), event(1, ts=1772352909)]) == [(1, "ts")]


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"item_id": None}, "item_id"),  # missing field
        ({"position": "second"}, "position"),  # wrong type
        ({"dwell_seconds": [1]}, "dwell_seconds"),  # not a scalar
        ({"event_type": "view"}, "event_type"),  # unknown event type (the importer's alias)
        ({"ts": "2026-03-01T08:15:09"}, "ts"),  # no zone
        ({"ts": "yesterday"}, "ts"),  # not a time
        ({"ts": "2026-03-03T08:00:00Z"}, "ts"),  # beyond importer.future_tolerance
        ({"ts": "2026-02-20T08:00:00Z"}, "ts"),  # older than collector.max_event_age
        ({"dwell_seconds": -3}, "dwell_seconds"),
        ({"hour": 24}, "hour"),
        ({"policy": "greedy"}, "policy"),
        ({"user_id": "p_" + "ab" * 12}, "user_id"),  # a pseudonym where the raw id is due
        ({"colour": "red"}, "colour"),  # not a schema v1 field
    ],
)
def test_each_bad_event_is_named_by_index_and_field(
    settings: Settings, bad: dict, field: str
) -> None:
    assert refused(settings, [event(0), event(1), event(2, **bad)]) == [(2, field)]


def test_every_bad_event_of_a_batch_is_named(settings: Settings) -> None:
    events = [event(0, event_type="view"), event(1), event(2, hour=-1), event(3, event_id="e1")]
    assert refused(settings, events) == [
        (0, "event_type"),
        (1, "event_id"),
        (2, "hour"),
        (3, "event_id"),
    ]


def test_an_empty_or_oversized_batch_is_refused(settings: Settings) -> None:
    assert refused(settings, []) == [(None, "events")]
    limit = settings.collector.max_batch_events
    with pytest.raises(BadBatch, match=f"split it into batches of at most {limit}"):
        check_batch(
            [event(i) for i in range(limit + 1)], settings.collector, settings.importer, NOW
        )


def test_the_message_says_what_to_send(settings: Settings) -> None:
    with pytest.raises(BadBatch) as caught:
        check_batch([event(0, event_type="view")], settings.collector, settings.importer, NOW)
    assert "event 0, field 'event_type'" in str(caught.value)
    assert f"send one of {[t.value for t in EventType]}" in str(caught.value)


@pytest.mark.parametrize("request_column", ["session", None])
def test_pseudonyms_equal_the_importers(
    settings: Settings, tmp_path: Path, request_column: str | None
) -> None:
    log = tmp_path / "logs.csv"
    log.write_text(
        "uid,content_id,ts,action,dwell_secs,session\n"
        "alice@example.com,a17,2026-03-01T08:15:02Z,view,,session-1\n"
        "alice@example.com,a17,2026-03-01T08:15:09Z,click,94.5,session-1\n"
    )
    mapping = ColumnMapping(
        user="uid",
        item="content_id",
        timestamp="ts",
        event="action",
        dwell="dwell_secs",
        request=request_column,
    )
    imported = pq.read_table(import_events(settings, log, mapping, now=NOW).files[0])
    posted = [
        event(0, ts="2026-03-01T08:15:02Z", event_type="impression", dwell_seconds=None),
        event(1, ts="2026-03-01T08:15:09Z"),
    ]
    if request_column is None:
        posted = [p | {"request_id": None} for p in posted]
    checked = check_batch(posted, settings.collector, settings.importer, NOW)
    collected = pseudonymized(checked, load_key(settings))
    for column in ("user_id", "request_id"):
        assert collected.column(column).to_pylist() == imported.column(column).to_pylist()
    assert collected.column("user_id")[0].as_py() == pseudonym(
        "alice@example.com", load_key(settings)
    )
