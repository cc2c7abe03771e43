"""A simulated day's responses as event rows of schema.EVENTS, in time order."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engageflow import schema
from engageflow.schema import EventType
from engageflow.simulator.behaviour import MAX_DWELL_SECONDS, Responses

MAX_CLICK_DELAY_SECONDS = 300.0
# A survey comes after every other event of its session (the last is a share after a like).
SURVEY_DELAY = np.timedelta64(int((MAX_CLICK_DELAY_SECONDS + MAX_DWELL_SECONDS + 60) * 1e6), "us")


def event_rows(
    impressions: dict[str, np.ndarray],
    responses: Responses,
    day: date,
    rng: np.random.Generator,
    scores: np.ndarray | None = None,
) -> pa.Table:
    """Expand impressions into impression, click, like, share, hide and report rows, and a
    survey row where `scores` (per impression, 0 for none) holds a 1-5 answer."""
    m = len(impressions["ts"])
    click_delay = (rng.random(m) * MAX_CLICK_DELAY_SECONDS * 1e6).astype("timedelta64[us]")
    dwell = np.nan_to_num(responses.dwell_seconds)
    dwell_us = (dwell * 1e6).astype("timedelta64[us]")
    hide_delay = (rng.random(m) * 60e6).astype("timedelta64[us]")
    kinds = [
        (EventType.IMPRESSION, np.ones(m, bool), np.timedelta64(0, "us")),
        (EventType.CLICK, responses.clicked, click_delay),
        (EventType.LIKE, responses.liked, click_delay + dwell_us),
        (EventType.SHARE, responses.shared, click_delay + dwell_us + np.timedelta64(1, "s")),
        (EventType.HIDE, responses.hidden, hide_delay),
        (EventType.REPORT, responses.reported, hide_delay + np.timedelta64(1, "s")),
    ]
    if scores is not None:
        kinds.append((EventType.SURVEY, scores > 0, SURVEY_DELAY))
    picks, types, offsets = [], [], []
    for kind, mask, delay in kinds:
        idx = np.flatnonzero(mask)
        picks.append(idx)
        types.append(np.full(len(idx), kind.value, dtype=object))
        offsets.append(np.broadcast_to(delay, (m,))[idx])
    pick = np.concatenate(picks)
    kind = np.concatenate(types)
    ts = impressions["ts"][pick] + np.concatenate(offsets)
    order = np.lexsort((np.arange(len(pick)), ts))
    pick, kind, ts = pick[order], kind[order], ts[order]
    is_click = kind == EventType.CLICK.value
    is_survey = kind == EventType.SURVEY.value
    # dwell_seconds is the row's measured value: seconds on a click, the score on a survey.
    value = np.where(is_click, dwell[pick], np.nan)
    if scores is not None:
        value = np.where(is_survey, scores[pick], value)
    columns = {name: values[pick] for name, values in impressions.items() if name != "ts"}
    serial = pa.array(np.arange(len(pick))).cast(pa.string())
    ids = pc.binary_join_element_wise(f"e{day:%Y%m%d}-", serial, "")
    table = pa.table(
        {
            "event_id": ids,
            "ts": pa.array(ts, type=schema.UTC_TS),
            "user_id": columns["user_id"],
            "item_id": columns["item_id"],
            "event_type": kind,
            "dwell_seconds": pa.array(value.astype(np.float32), mask=~(is_click | is_survey)),
            "position": columns["position"],
            "request_id": columns["request_id"],
            "policy": columns["policy"],
            "model_version": columns["model_version"],
            "propensity": columns["propensity"],
            "device": columns["device"],
            "hour": columns["hour"],
        }
    )
    return schema.conform(table, schema.EVENTS, f"simulated events {day}")
