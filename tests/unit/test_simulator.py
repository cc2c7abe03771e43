"""The simulator's laws, checked on simulated traffic against the world's latent truth."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from engageflow import schema
from engageflow.labels import impression_labels
from engageflow.settings import Drift, Settings
from engageflow.simulator import POLICIES, simulate_day
from engageflow.simulator.behaviour import topic_shift
from engageflow.simulator.world import World, build_world

DAY = date(2026, 1, 1)
ONE = timedelta(days=1)
RANDOM = POLICIES["random"]


def _day(settings: Settings, day: date = DAY, **changes) -> tuple[pd.DataFrame, pd.DataFrame]:
    config = settings.simulation.model_copy(update=changes)
    traffic = simulate_day(config, settings.labels, settings.seed, day, RANDOM)
    events = traffic.events.to_pandas()
    return events, traffic.truth.to_pandas()


@pytest.fixture
def busy(settings: Settings) -> Settings:
    settings.simulation.requests_per_day = 20_000
    return settings


def test_events_follow_the_schema_and_hide_the_truth(settings: Settings) -> None:
    traffic = simulate_day(settings.simulation, settings.labels, settings.seed, DAY, RANDOM)
    assert traffic.events.schema.equals(schema.EVENTS)
    assert traffic.items.schema.equals(schema.ITEMS)
    assert not {"p_click", "p_good", "quality", "clickbait"} & set(traffic.events.column_names)
    events = traffic.events.to_pandas()
    assert events["event_id"].is_unique
    start, end = (pd.Timestamp(t) for t in (DAY, DAY + timedelta(days=1)))
    assert events["ts"].between(start.tz_localize("UTC"), end.tz_localize("UTC"), "left").all()


def test_slates_are_distinct_positioned_and_logged_with_propensity(settings: Settings) -> None:
    events, _ = _day(settings)
    shown = events[events["event_type"] == "impression"]
    per_request = shown.groupby("request_id")
    assert (per_request["item_id"].nunique() == settings.simulation.slate_size).all()
    assert sorted(shown["position"].unique()) == list(range(settings.simulation.slate_size))
    expected = settings.simulation.slate_size / settings.simulation.candidates
    assert np.allclose(shown["propensity"], expected)
    assert (shown["policy"] == "explore").all()
    clicks = events[events["event_type"] == "click"]
    assert clicks["dwell_seconds"].gt(0).all()
    assert events.loc[events["event_type"] != "click", "dwell_seconds"].isna().all()


def test_same_seed_same_day_same_events(settings: Settings) -> None:
    first, _ = _day(settings)
    again, _ = _day(settings)
    pd.testing.assert_frame_equal(first, again)
    settings.seed += 1
    other, _ = _day(settings)
    assert not first["item_id"].equals(other["item_id"])


def test_clickbait_gets_more_clicks_less_dwell_more_hides(busy: Settings) -> None:
    events, _ = _day(busy)
    world = build_world(busy.simulation, busy.seed, DAY)
    bait = pd.Series(world.items.clickbait, index=world.items.ids)
    shown = impression_labels(events, busy.labels)
    shown["bait"] = shown["item_id"].map(bait)
    high = shown[shown["bait"] > 0.4]
    low = shown[shown["bait"] < 0.15]
    assert len(high) > 2_000 and len(low) > 2_000
    assert high["clicked"].mean() > 1.3 * low["clicked"].mean()
    assert high["dwell_seconds"].median() < 0.6 * low["dwell_seconds"].median()
    assert high["hidden"].mean() > 2 * low["hidden"].mean()
    assert high["bad"].mean() > low["bad"].mean()


def test_true_probabilities_match_observed_rates(busy: Settings) -> None:
    events, truth = _day(busy)
    shown = impression_labels(events, busy.labels)
    joined = shown.merge(truth, on=["request_id", "item_id"], validate="one_to_one")
    assert len(joined) == len(truth)
    for observed, expected in (("clicked", "p_click"), ("good", "p_good"), ("bad", "p_bad")):
        rate, prob = joined[observed].mean(), joined[expected].mean()
        assert abs(rate - prob) < 0.1 * prob, (observed, rate, prob)


def test_drift_changes_topic_ctr_after_the_drift_day(busy: Settings) -> None:
    drift_day = DAY + timedelta(days=1)
    busy.simulation.drifts = [Drift(day=drift_day, topic=0, shift=-2.0)]

    def topic_ctr(day: date) -> pd.Series:
        events, _ = _day(busy, day)
        world = build_world(busy.simulation, busy.seed, day)
        topics = pd.Series(world.items.topic, index=world.items.ids)
        shown = impression_labels(events, busy.labels)
        return shown.groupby(shown["item_id"].map(topics))["clicked"].mean()

    before, after = topic_ctr(DAY), topic_ctr(drift_day)
    assert after[0] < 0.5 * before[0]
    others = before.index != 0
    assert np.allclose(after[others], before[others], rtol=0.25)


def _created_on(world: World, day: date) -> np.ndarray:
    """Indices of the items created on `day`."""
    created = world.items.created_at
    return np.flatnonzero((created >= np.datetime64(day)) & (created < np.datetime64(day + ONE)))


def test_a_flood_of_new_items_comes_on_its_day_only_and_changes_no_earlier_day(
    settings: Settings,
) -> None:
    flood_day, config = DAY + ONE, settings.simulation
    plain_world = build_world(config, settings.seed, flood_day)
    plain = {day: _day(settings, day)[0] for day in (DAY, flood_day)}
    config.drifts = [Drift(day=flood_day, kind="new_items", items=70)]
    world = build_world(config, settings.seed, flood_day)
    assert len(_created_on(world, flood_day)) == config.new_items_per_day + 70
    assert len(_created_on(world, DAY)) == config.new_items_per_day
    # The day's usual arrivals are the same items; the flood's come after them, with new ids.
    n = len(plain_world.items.ids)
    for name in ("ids", "created_at", "quality", "clickbait", "topic"):
        assert np.array_equal(getattr(world.items, name)[:n], getattr(plain_world.items, name))
    assert len(set(world.items.ids)) == len(world.items.ids) == n + 70
    # Items created on the flood day go live the day after: that day's traffic is unchanged too.
    for day, events in plain.items():
        pd.testing.assert_frame_equal(_day(settings, day)[0], events)
    later = build_world(config, settings.seed, flood_day + ONE)
    assert len(_created_on(later, flood_day + ONE)) == config.new_items_per_day
    assert len(set(later.items.ids)) == len(later.items.ids)


def test_a_clickbait_drift_makes_new_items_sensational_from_its_day_on(
    settings: Settings,
) -> None:
    drift_day, config = DAY + ONE, settings.simulation
    last = drift_day + ONE
    plain = build_world(config, settings.seed, last)
    config.drifts = [Drift(day=drift_day, kind="clickbait")]
    world = build_world(config, settings.seed, last)
    before = world.items.created_at < np.datetime64(drift_day)
    after = ~before
    assert after.sum() == 2 * config.new_items_per_day
    assert world.items.sensationalism[before].mean() < 0.25
    assert world.items.sensationalism[after].mean() > 0.5
    assert plain.items.sensationalism[after].mean() < 0.25
    # Only clickbait and its observable view change, and only on and after the drift day.
    for name in ("clickbait", "sensationalism"):
        assert np.array_equal(
            getattr(world.items, name)[before], getattr(plain.items, name)[before]
        )
    for name in ("ids", "created_at", "quality", "topic", "production_score"):
        assert np.array_equal(getattr(world.items, name), getattr(plain.items, name))
    config.drifts = [Drift(day=drift_day, kind="clickbait", share=0.5)]
    half = build_world(config, settings.seed, last).items.sensationalism[after].mean()
    assert 0.3 < half < 0.6


def test_only_topic_appeal_drifts_shift_a_topic(settings: Settings) -> None:
    topics = np.arange(settings.simulation.topics)
    drifts = [
        Drift(day=DAY, kind="new_items", items=10),
        Drift(day=DAY, kind="clickbait"),
        Drift(day=DAY, topic=1, shift=-2.0),
    ]
    assert topic_shift(drifts, topics, DAY).tolist() == [0.0, -2.0] + [0.0] * (len(topics) - 2)


def test_new_items_and_users_arrive_every_day(settings: Settings) -> None:
    config = settings.simulation
    for offset in range(3):
        day = DAY + timedelta(days=offset)
        world = build_world(config, settings.seed, day)
        assert len(world.items.ids) == config.items + (offset + 1) * config.new_items_per_day
        assert len(world.users.ids) == config.users + (offset + 1) * config.new_users_per_day
        assert world.items.created_at.max() < np.datetime64(day + timedelta(days=1))
        events, _ = _day(settings, day)
        shown = world.items.created_at[[world.item_index[i] for i in set(events["item_id"])]]
        assert (shown < np.datetime64(day)).all()  # never shown before it exists
        # Items created yesterday are shown today with no history: the daily cold start.
        assert (shown >= np.datetime64(day - timedelta(days=1))).any()
        joined = world.users.joined[np.isin(world.users.ids, events["user_id"].unique())]
        assert (joined >= np.datetime64(day)).any()  # users who joined today are active


def test_a_day_is_the_same_alone_or_after_others(settings: Settings) -> None:
    later = DAY + timedelta(days=2)
    alone, _ = _day(settings, later)
    world = build_world(settings.simulation, settings.seed, later)
    assert len(world.items.ids) > settings.simulation.items
    again, _ = _day(settings, later)
    pd.testing.assert_frame_equal(alone, again)


def test_too_few_items_is_a_clear_error(settings: Settings) -> None:
    with pytest.raises(ValueError, match="items are live"):
        _day(settings, items=5, new_items_per_day=0, candidates=10, slate_size=5)


def test_user_attributes_lean_with_tastes_and_stay_put(settings: Settings) -> None:
    from scipy import stats

    from engageflow.simulator.attributes import user_table

    world = build_world(settings.simulation, settings.seed, DAY + 3 * ONE)
    users = user_table(world, settings.seed).to_pandas()
    assert user_table(world, settings.seed).schema.equals(schema.USERS)
    assert len(users) == len(world.users.ids)
    # The same users on an earlier day have the same attributes.
    earlier = user_table(build_world(settings.simulation, settings.seed, DAY), settings.seed)
    head = users.iloc[: earlier.num_rows].reset_index(drop=True)
    pd.testing.assert_frame_equal(earlier.to_pandas(), head)
    # Declared topics are among a user's favourites: the top topic is declared, when any is.
    said = users["declared_topics"].notna().to_numpy()
    assert 0.5 < said.mean() < 0.7
    top = world.users.preference.argmax(axis=1)
    assert all(t in d for t, d in zip(top[said], users["declared_topics"][said], strict=True))
    # Age bands lean with tastes: users who like the same topic are closer in age than others.
    by_top = pd.Series(users["age_band"].to_numpy()).groupby(top)
    within = by_top.var().mean()
    assert within < 0.8 * users["age_band"].var()
    assert stats.kruskal(*[g.to_numpy() for _, g in by_top]).pvalue < 1e-6
