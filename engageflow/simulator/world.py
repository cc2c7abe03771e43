"""The simulated world: users with latent tastes, items with latent quality and clickbait-ness.

The world on any day is a pure function of (config, seed, day): a base population plus the
arrivals of every day since `config.start`, each drawn from its own seeded stream. So any day
can be simulated on its own (an Airflow run per day) and still agree with every other day.
Drifts that change the catalog (a flood of new items, a clickbait surge) draw from streams of
their own, so the days before a drift come out the same with or without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property

import numpy as np

from engageflow.lake import day_bounds
from engageflow.settings import SimulationConfig

BASE_ITEM_AGE_DAYS = 60  # the base catalog was created over the two months before the start
DEVICES = np.array(["mobile", "desktop", "tablet"])
DEVICE_SHARES = np.array([0.65, 0.28, 0.07])
CLICKBAIT = (1.2, 5.0)  # Beta parameters of an item's latent clickbait: mean 0.19
SURGE_CLICKBAIT = (5.0, 2.0)  # ... during a clickbait drift: mean 0.71


def stream(seed: int, name: str, day: date | None = None) -> np.random.Generator:
    """An independent random stream per (seed, purpose, day): reruns draw the same numbers."""
    key = [seed, int.from_bytes(name.encode(), "little") % (2**32)]
    if day is not None:
        key.append(day.toordinal())
    return np.random.default_rng(np.random.SeedSequence(key))


def midnight(day: date) -> datetime:
    return day_bounds(day)[0]


def midnight64(day: date) -> np.datetime64:
    """UTC midnight of `day` as a naive datetime64[us], the unit of every time array here."""
    return np.datetime64(midnight(day).replace(tzinfo=None), "us")


@dataclass(frozen=True)
class Users:
    ids: np.ndarray  # str
    joined: np.ndarray  # datetime64[us], UTC
    preference: np.ndarray  # (n, topics), rows sum to 1
    activity: np.ndarray  # relative request rate
    device: np.ndarray  # str, the user's usual device


@dataclass(frozen=True)
class Items:
    ids: np.ndarray
    created_at: np.ndarray  # datetime64[us], UTC
    topic: np.ndarray
    creator: np.ndarray
    quality: np.ndarray  # latent, never written to events or the catalog
    clickbait: np.ndarray  # latent in [0, 1]
    sensationalism: np.ndarray  # observable, noisy view of clickbait
    production_score: np.ndarray  # observable, noisy view of quality
    duration_seconds: np.ndarray


@dataclass(frozen=True)
class Surge:
    """A clickbait drift on one day: `share` of the new items redraw clickbait from `rng`."""

    share: float
    rng: np.random.Generator

    def apply(self, clickbait: np.ndarray) -> np.ndarray:
        surged = self.rng.random(len(clickbait)) < self.share
        return np.where(surged, self.rng.beta(*SURGE_CLICKBAIT, size=len(clickbait)), clickbait)


@dataclass(frozen=True)
class World:
    config: SimulationConfig
    users: Users
    items: Items

    @cached_property
    def item_index(self) -> dict[str, int]:
        return {item: i for i, item in enumerate(self.items.ids)}


def _draw_users(
    config: SimulationConfig, rng: np.random.Generator, first: int, n: int, joined: np.ndarray
) -> dict[str, np.ndarray]:
    return {
        "ids": np.array([f"u{first + i:07d}" for i in range(n)], dtype=object),
        "joined": joined,
        # A sparse Dirichlet: most users care about a few topics.
        "preference": rng.dirichlet(np.full(config.topics, 0.3), size=n),
        "activity": rng.lognormal(0.0, 1.0, size=n),
        "device": DEVICES[rng.choice(len(DEVICES), size=n, p=DEVICE_SHARES)],
    }


def _draw_items(
    config: SimulationConfig,
    rng: np.random.Generator,
    first: int,
    n: int,
    created: np.ndarray,
    surge: Surge | None = None,
) -> dict[str, np.ndarray]:
    quality = rng.normal(0.0, 1.0, size=n)
    clickbait = rng.beta(*CLICKBAIT, size=n)
    # The usual draw is made even when surged, so `rng` goes on to draw every other attribute
    # as it would have: a surge changes clickbait (and its view, sensationalism) only.
    clickbait = clickbait if surge is None else surge.apply(clickbait)
    return {
        "ids": np.array([f"i{first + i:07d}" for i in range(n)], dtype=object),
        "created_at": created,
        "topic": rng.integers(0, config.topics, size=n),
        "creator": np.array(
            [f"c{c:05d}" for c in rng.integers(0, config.creators, size=n)], dtype=object
        ),
        "quality": quality,
        "clickbait": clickbait,
        "sensationalism": np.clip(clickbait + rng.normal(0.0, 0.1, size=n), 0.0, 1.0),
        "production_score": quality + rng.normal(0.0, 0.7, size=n),
        "duration_seconds": rng.lognormal(np.log(240.0), 0.6, size=n),
    }


def _instants(rng: np.random.Generator, start: datetime, span: timedelta, n: int) -> np.ndarray:
    offsets = np.sort(rng.integers(0, int(span.total_seconds() * 1e6), size=n))
    return np.datetime64(start.replace(tzinfo=None), "us") + offsets.astype("timedelta64[us]")


def _concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


def _surge(config: SimulationConfig, seed: int, day: date) -> Surge | None:
    """The clickbait drift in force on `day`, if any; overlapping ones take the largest share."""
    shares = [d.share for d in config.drifts if d.kind == "clickbait" and d.day <= day]
    return Surge(max(shares), stream(seed, "clickbait", day)) if shares else None


def _flood(config: SimulationConfig, day: date) -> int:
    """How many extra items a new_items drift brings on `day`."""
    return sum(d.items for d in config.drifts if d.kind == "new_items" and d.day == day)


def build_world(config: SimulationConfig, seed: int, day: date) -> World:
    """Users who joined by the end of `day`, items created before the end of `day`."""
    if day < config.start:
        raise ValueError(f"day {day} is before the simulation start {config.start}")
    start = midnight(config.start)
    base = stream(seed, "base")
    user_parts = [
        _draw_users(
            config,
            base,
            0,
            config.users,
            np.full(config.users, midnight64(config.start) - np.timedelta64(365, "D")),
        )
    ]
    item_parts = [
        _draw_items(
            config,
            base,
            0,
            config.items,
            _instants(
                base,
                start - timedelta(days=BASE_ITEM_AGE_DAYS),
                timedelta(days=BASE_ITEM_AGE_DAYS),
                config.items,
            ),
        )
    ]
    n_users, n_items = config.users, config.items
    for offset in range((day - config.start).days + 1):
        d = config.start + timedelta(days=offset)
        rng = stream(seed, "arrivals", d)
        joined = _instants(rng, midnight(d), timedelta(days=1), config.new_users_per_day)
        created = _instants(rng, midnight(d), timedelta(days=1), config.new_items_per_day)
        surge = _surge(config, seed, d)
        user_parts.append(_draw_users(config, rng, n_users, config.new_users_per_day, joined))
        item_parts.append(
            _draw_items(config, rng, n_items, config.new_items_per_day, created, surge)
        )
        n_users += config.new_users_per_day
        n_items += config.new_items_per_day
        if flood := _flood(config, d):
            # After the day's usual arrivals, from a stream of its own: those stay as they were.
            # Ids follow on, so the later days' ids move up: they are days after the drift.
            extra = stream(seed, "flood", d)
            created = _instants(extra, midnight(d), timedelta(days=1), flood)
            item_parts.append(_draw_items(config, extra, n_items, flood, created, surge))
            n_items += flood
    return World(config, Users(**_concat(user_parts)), Items(**_concat(item_parts)))
