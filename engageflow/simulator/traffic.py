"""One simulated day of traffic: requests, slates from a policy, responses, and the event rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engageflow import schema
from engageflow.schema import EventType
from engageflow.settings import LabelConfig, SimulationConfig
from engageflow.simulator.attributes import user_table
from engageflow.simulator.behaviour import Exposure, Responses, chances, respond, topic_shift, truth
from engageflow.simulator.policies import SlatePolicy, SlateRequests
from engageflow.simulator.world import World, build_world, midnight64, stream

# Requests stop early enough that every follow-up event (click delay, an hour of dwell) still
# falls inside the day, so a day's events belong to exactly one daily partition.
REQUEST_WINDOW = timedelta(hours=22)
MAX_CLICK_DELAY_SECONDS = 300.0


@dataclass(frozen=True)
class DayOfTraffic:
    events: pa.Table  # schema.EVENTS
    items: pa.Table  # schema.ITEMS: the catalog as of the end of the day
    truth: pa.Table  # request_id, item_id, p_click, p_good, p_bad
    users: pa.Table  # schema.USERS: every user who joined by the end of the day


def _request_times(
    world: World, users: np.ndarray, day: date, rng: np.random.Generator
) -> np.ndarray:
    """Uniform in the request window, but never before the user joined."""
    start = midnight64(day)
    end = start + np.timedelta64(int(REQUEST_WINDOW.total_seconds() * 1e6), "us")
    lo = np.maximum(world.users.joined[users], start).astype("int64")
    hi = np.maximum(end.astype("int64"), lo + 1)
    return (lo + (rng.random(len(users)) * (hi - lo)).astype("int64")).astype("datetime64[us]")


def _candidates(world: World, day: date, n: int, c: int, rng: np.random.Generator) -> np.ndarray:
    """c distinct live items per request: a random stride through a shuffled pool."""
    live = np.flatnonzero(world.items.created_at < midnight64(day))
    if len(live) < c:
        raise ValueError(f"only {len(live)} items are live on {day}; need {c} candidates")
    pool = rng.permutation(live)
    strides = np.arange(1, min(len(pool), 1000))
    strides = strides[np.gcd(strides, len(pool)) == 1]
    offset = rng.integers(0, len(pool), size=(n, 1))
    stride = rng.choice(strides, size=(n, 1))
    return pool[(offset + stride * np.arange(c)) % len(pool)]


def _requests(
    world: World, day: date, config: SimulationConfig, rng: np.random.Generator
) -> tuple[SlateRequests, np.ndarray, np.ndarray, np.ndarray]:
    joined_by = world.users.joined < midnight64(day + timedelta(days=1))
    eligible = np.flatnonzero(joined_by)
    weights = world.users.activity[eligible]
    n = config.requests_per_day
    users = eligible[rng.choice(len(eligible), size=n, p=weights / weights.sum())]
    times = _request_times(world, users, day, rng)
    order = np.argsort(times, kind="stable")
    users, times = users[order], times[order]
    candidates = _candidates(world, day, n, config.candidates, rng)
    own_device = rng.random(n) < 0.8
    device = np.where(own_device, world.users.device[users], rng.choice(world.users.device, size=n))
    hour = ((times - times.astype("datetime64[D]")) // np.timedelta64(1, "h")).astype(np.int8)
    stamp = day.strftime("%Y%m%d")
    request_ids = np.array([f"r{stamp}-{i:08d}" for i in range(n)], dtype=object)
    requests = SlateRequests(
        request_ids,
        world.users.ids[users],
        world.items.ids[candidates],
        device,
        hour,
        config.slate_size,
        times,
    )
    return requests, users, candidates, times


def simulate_day(
    config: SimulationConfig, labels: LabelConfig, seed: int, day: date, policy: SlatePolicy
) -> DayOfTraffic:
    """Simulate `day` for a policy; the same inputs always give the same tables."""
    world = build_world(config, seed, day)
    rng = stream(seed, "traffic", day)
    requests, users, candidates, times = _requests(world, day, config, rng)
    slates = policy(requests, stream(seed, "policy", day))
    n, k = slates.chosen.shape
    shown = np.take_along_axis(candidates, slates.chosen, axis=1).ravel()
    row = np.repeat(np.arange(n), k)
    exposure = Exposure(
        preference=world.users.preference[users[row], world.items.topic[shown]],
        topics=config.topics,
        topic=world.items.topic[shown],
        quality=world.items.quality[shown],
        clickbait=world.items.clickbait[shown],
        position=np.tile(np.arange(k), n),
    )
    odds = chances(exposure, topic_shift(config.drifts, exposure.topic, day))
    responses = respond(odds, rng)
    impressions = {
        "ts": times[row],
        "user_id": requests.user_ids[row],
        "item_id": world.items.ids[shown],
        "position": exposure.position.astype(np.int16),
        "request_id": (requests.request_ids if slates.request_ids is None else slates.request_ids)[
            row
        ],
        "policy": slates.policy[row],
        "model_version": slates.model_version[row],
        "propensity": slates.propensity.ravel().astype(np.float32),
        "device": requests.device[row],
        "hour": requests.hour[row],
    }
    events = _event_rows(impressions, responses, day, rng)
    truth_table = pa.table(
        {
            "request_id": impressions["request_id"],
            "item_id": impressions["item_id"],
            **{name: p.astype(np.float32) for name, p in truth(odds, labels).items()},
        }
    )
    return DayOfTraffic(events, catalog(world), truth_table, user_table(world, seed))


def _event_rows(
    impressions: dict[str, np.ndarray], responses: Responses, day: date, rng: np.random.Generator
) -> pa.Table:
    """Expand impressions into impression, click, like, share, hide and report rows."""
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
            "dwell_seconds": pa.array(
                np.where(is_click, dwell[pick], np.nan).astype(np.float32), mask=~is_click
            ),
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


def catalog(world: World) -> pa.Table:
    items = world.items
    table = pa.table(
        {
            "item_id": items.ids,
            "created_at": pa.array(items.created_at, type=schema.UTC_TS),
            "topic": items.topic.astype(np.int16),
            "creator_id": items.creator,
            "headline_sensationalism": items.sensationalism.astype(np.float32),
            "production_score": items.production_score.astype(np.float32),
            "duration_seconds": items.duration_seconds.astype(np.float32),
        }
    )
    return schema.conform(table, schema.ITEMS, "simulated catalog")
