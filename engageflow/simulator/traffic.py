"""One simulated day of traffic: requests, slates from a policy, responses, and the event rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pyarrow as pa

from engageflow import schema
from engageflow.settings import LabelConfig, SimulationConfig
from engageflow.simulator import retention
from engageflow.simulator.attributes import user_table
from engageflow.simulator.behaviour import Exposure, chances, respond, topic_shift, truth
from engageflow.simulator.events import event_rows
from engageflow.simulator.policies import SlatePolicy, SlateRequests
from engageflow.simulator.survey import survey
from engageflow.simulator.world import World, build_world, midnight64, stream

# Requests stop early enough that every follow-up event (click delay, an hour of dwell) still
# falls inside the day, so a day's events belong to exactly one daily partition.
REQUEST_WINDOW = timedelta(hours=22)


@dataclass(frozen=True)
class DayOfTraffic:
    events: pa.Table  # schema.EVENTS
    items: pa.Table  # schema.ITEMS: the catalog as of the end of the day
    truth: pa.Table  # request_id, item_id, p_click, p_good, p_bad
    users: pa.Table  # schema.USERS: every user who joined by the end of the day
    # With simulation.retention on (else None): truth, never in events.
    state: pa.Table | None = None  # retention.STATE after the day, read back for the next
    sessions: pa.Table | None = None  # request_id, user_id, value, expected_score, surveyed


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
    world: World,
    day: date,
    config: SimulationConfig,
    rng: np.random.Generator,
    rates: np.ndarray | None = None,
) -> tuple[SlateRequests, np.ndarray, np.ndarray, np.ndarray]:
    joined_by = world.users.joined < midnight64(day + timedelta(days=1))
    eligible = np.flatnonzero(joined_by)
    weights = world.users.activity[eligible]
    n = config.requests_per_day
    if rates is not None:
        # Each user's expected requests scale with their return rate; all rates 1 -> n.
        returning = weights * rates[eligible]
        n = round(n * returning.sum() / weights.sum())
        weights = returning
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
    config: SimulationConfig,
    labels: LabelConfig,
    seed: int,
    day: date,
    policy: SlatePolicy,
    state: pa.Table | None = None,
) -> DayOfTraffic:
    """Simulate `day` for a policy; the same inputs always give the same tables. With
    simulation.retention on, `state` is the users' state after the day before (else None)."""
    world = build_world(config, seed, day)
    rng = stream(seed, "traffic", day)
    before = retention.entering(config, world.users, day, state)
    rates = None if before is None else before.rates(config.retention)
    requests, users, candidates, times = _requests(world, day, config, rng, rates)
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
    request_ids = requests.request_ids if slates.request_ids is None else slates.request_ids
    impressions = {
        "ts": times[row],
        "user_id": requests.user_ids[row],
        "item_id": world.items.ids[shown],
        "position": exposure.position.astype(np.int16),
        "request_id": request_ids[row],
        "policy": slates.policy[row],
        "model_version": slates.model_version[row],
        "propensity": slates.propensity.ravel().astype(np.float32),
        "device": requests.device[row],
        "hour": requests.hour[row],
    }
    truth_table = pa.table(
        {
            "request_id": impressions["request_id"],
            "item_id": impressions["item_id"],
            **{name: p.astype(np.float32) for name, p in truth(odds, labels).items()},
        }
    )
    if before is None:
        events = event_rows(impressions, responses, day, rng)
        return DayOfTraffic(events, catalog(world), truth_table, user_table(world, seed))
    laws = config.retention
    values = retention.session_values(retention.outcomes(responses, labels), row, n, laws)
    answers = survey(values, laws, stream(seed, "survey", day))
    # The survey is about the session; its row names the slate's first item (an impression of
    # the same request), so labels and features fold it in without a phantom impression.
    scores = np.where(exposure.position == 0, answers.score[row], 0)
    events = event_rows(impressions, responses, day, rng, scores)
    after = retention.next_state(before, users, values, laws)
    sessions = pa.table(
        {
            "request_id": request_ids,
            "user_id": requests.user_ids,
            "value": values,
            "expected_score": answers.expected,
            "surveyed": answers.answered,
        }
    )
    state_after = retention.state_table(after, world.users.ids, laws)
    return DayOfTraffic(
        events, catalog(world), truth_table, user_table(world, seed), state_after, sessions
    )


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
