"""The loop's first days over a real `bentoml serve`: no champion, and on day 0 no features.

The service answers /rank from its explored fallback (readiness stays 503 until a champion),
the simulator lands those slates and the quality gate accepts them; once features exist the
fallback ranks by popularity without a restart.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from datetime import date

import httpx
import numpy as np
import pyarrow.parquet as pq
import pytest

from engageflow import lake
from engageflow.app.simulate import simulate_served_day
from engageflow.settings import Settings
from expectations.ingest import ingest_catalog, ingest_events
from feature_repo.apply import apply_if_changed
from feature_repo.materialize import materialize_days
from feature_repo.offline import build_offline
from feature_repo.store import feature_store
from serving.launch import ServiceProcess, free_port

pytestmark = pytest.mark.integration

DAY0, DAY1 = date(2026, 1, 1), date(2026, 1, 2)
EPSILON = 0.2
POPULARITY = "item_lt_good_rate"


@pytest.fixture
def service(settings: Settings, tmp_path) -> Iterator[tuple[Settings, ServiceProcess]]:
    """A service on an empty data dir: no registry, no model, no catalog, no features."""
    settings.simulation.requests_per_day = 300
    serving = {
        "port": free_port(),
        "epsilon": EPSILON,
        "reload_interval_seconds": 0.5,
        "cache_ttl_seconds": 0.5,
        "log_flush_seconds": 0.2,
    }
    settings = settings.model_copy(update={"serving": settings.serving.model_copy(update=serving)})
    server = ServiceProcess(settings, tmp_path / "serve.log").start()
    try:
        yield settings, server.wait_ready(probe="/livez")
    finally:
        server.stop(signal.SIGTERM)


def _landed(settings: Settings, day: date):
    folder = lake.partition_dir(settings.root, "landing", "events", day)
    return pq.read_table(folder / "simulator.parquet").to_pandas()


def test_the_first_days_are_served_by_the_explored_fallback(service) -> None:
    settings, server = service
    assert httpx.get(f"{server.url}/readyz").status_code == 503  # no champion: not ready

    simulate_served_day(settings, DAY0)
    events = _landed(settings, DAY0)
    shown = events[events["event_type"] == "impression"]
    assert set(shown["policy"]) == {"fallback", "explore"}, server.log_tail()
    assert shown["model_version"].isna().all()
    k, c = settings.simulation.slate_size, settings.simulation.candidates
    greedy, explored = 1 - EPSILON + EPSILON * k / c, EPSILON * k / c
    by_policy = shown.groupby("policy")["propensity"]
    np.testing.assert_allclose(by_policy.max()["fallback"], greedy, rtol=1e-6)
    p = shown["propensity"].to_numpy(dtype=float)
    assert (np.isclose(p, greedy, rtol=1e-6) | np.isclose(p, explored, rtol=1e-6)).all()
    assert shown["request_id"].str.fullmatch(r"[0-9a-f]{32}").all()  # the service's ids
    # The quality gate takes the fallback's rows as they are.
    assert ingest_catalog(settings, DAY0).rows > 0
    assert ingest_events(settings, DAY0).rows == len(events)
    assert not lake.partition_dir(settings.root, "quarantine", "events", DAY0).exists()

    # Day 0's features appear (offline, registry, online store): without a restart the
    # fallback now ranks by popularity.
    build_offline(settings, DAY0)
    apply_if_changed(settings)
    materialize_days(settings, [DAY0])
    candidates = sorted(
        lake.read_partition(settings.root, "lake", "items", DAY0).column("item_id").to_pylist()
    )[:30]
    store = feature_store(settings)
    rows = store.get_online_features(
        features=[f"item_history:{POPULARITY}"],
        entity_rows=[{"item_id": item} for item in candidates],
    ).to_dict()
    popularity = np.nan_to_num(np.array(rows[POPULARITY], dtype=float), nan=0.0)
    assert len(set(popularity)) > 1  # the check could fail: popularity is not flat
    by_item = dict(zip(candidates, popularity, strict=True))
    best = sorted(popularity, reverse=True)[:10]
    deadline = time.monotonic() + 60
    while True:
        body = {"user_id": "u-anyone", "candidates": candidates, "k": 10}
        reply = httpx.post(f"{server.url}/rank", json=body).json()
        got = [(i["item_id"], i["score"]) for i in reply["items"]]
        if reply["policy"] == "fallback" and np.allclose([s for _, s in got], best):
            break
        assert time.monotonic() < deadline, (reply["policy"], got, best, server.log_tail())
        time.sleep(0.3)
    np.testing.assert_allclose([by_item[item] for item, _ in got], best)

    simulate_served_day(settings, DAY1)
    day1 = _landed(settings, DAY1)
    assert set(day1["policy"]) <= {"fallback", "explore"}
    assert ingest_catalog(settings, DAY1).rows > 0
    assert ingest_events(settings, DAY1).rows == len(day1)
