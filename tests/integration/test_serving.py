"""The ranking service for real: `bentoml serve` subprocesses on loopback, a real MLflow registry
(SQLite) holding a champion trained on a simulated world, and real Feast online stores (SQLite,
Redis). One trained world is shared by the module; the servers start together to save time."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from importlib.metadata import version

import httpx
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from mlflow.exceptions import MlflowException
from servers import start_redis
from worlds import CHAMPION_DAYS, champion_world, known_users

from engageflow import lake
from engageflow.registry import connect
from engageflow.settings import Settings
from engageflow.simulator import simulate_day
from feature_repo.historical import service_features
from feature_repo.materialize import materialize_days
from feature_repo.store import feature_store, materialized_through
from serving.canary import in_canary
from serving.feature_layout import ITEM_KEY, USER_KEY, build_layout
from serving.features import feature_matrix, gather_items
from serving.http_policy import HttpPolicy, served_models
from serving.launch import ServiceProcess, free_port
from serving.online_rows import catalog_ids, load_items, read_rows
from serving.schemas import RankRequest, RankResponse
from serving.sources import serving_store

pytestmark = pytest.mark.integration

DAYS = CHAMPION_DAYS
FIRST = date(2026, 1, 1)
SERVICE = "ranker_v1"
MODEL = "engagement_ranker"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Five simulated days with features, a champion (v1) trained on them, online store loaded."""
    return champion_world(tmp_path_factory.mktemp("serving") / "data")


def _with(settings: Settings, **serving) -> Settings:
    config = settings.serving.model_copy(update={"port": free_port(), **serving})
    return settings.model_copy(update={"serving": config})


@pytest.fixture(scope="module")
def private_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    """A redis-server of this module only (the fallback test kills it; never the shared one)."""
    port = free_port()
    process = start_redis(tmp_path_factory.mktemp("redis"), port)
    yield process, f"127.0.0.1:{port}"
    process.kill()
    process.wait()


@pytest.fixture(scope="module")
def servers(world: Settings, private_redis, tmp_path_factory) -> Iterator[dict]:
    """Three services started at once: main (SQLite), explore (epsilon 1, 2 workers), redis."""
    redis_world = world.model_copy(
        update={
            "feast": world.feast.model_copy(
                update={"online_store": "redis", "redis_connection": private_redis[1]}
            )
        }
    )
    materialize_days(redis_world, [FIRST])
    logs = tmp_path_factory.mktemp("logs")
    fast = {"reload_interval_seconds": 1.0, "epsilon": 0.0}
    started = {
        "main": ServiceProcess(_with(world, canary_share=0.3, **fast), logs / "main.log"),
        "explore": ServiceProcess(
            # Nothing is flushed before shutdown: the log must come from the clean stop.
            _with(world, epsilon=1.0, workers=2, log_flush_seconds=3600, log_batch_rows=10**6),
            logs / "explore.log",
        ),
        "redis": ServiceProcess(_with(redis_world, **fast), logs / "redis.log"),
    }
    for server in started.values():
        server.start()
    yield started
    for server in started.values():
        server.stop(signal.SIGTERM)


def _rank(url: str, user: str, candidates: list[str], k: int = 10) -> httpx.Response:
    return httpx.post(f"{url}/rank", json={"user_id": user, "candidates": candidates, "k": k})


@pytest.mark.parametrize("online", ["sqlite", "redis"])
def test_serving_features_equal_feasts_own(world: Settings, online: str, request) -> None:
    settings = world
    if online == "redis":
        feast = world.feast.model_copy(
            update={
                "online_store": "redis",
                "redis_connection": request.getfixturevalue("redis_db"),
            }
        )
        settings = world.model_copy(update={"feast": feast})
        materialize_days(settings, [FIRST])
    store, reference = serving_store(settings), feature_store(settings)
    columns = service_features(reference, SERVICE)
    layout = build_layout(store, SERVICE, columns, "item_good_rate_7d")
    items = [*catalog_ids(settings.root)[:40], "i-not-in-the-catalog"]
    table = load_items(store, layout, items[5:])  # five candidates are read "on a miss"
    extra = load_items(store, layout, items[:5])
    at = datetime(2026, 1, 6, 9, 30, 15, 654321, tzinfo=UTC)
    for user in [*known_users(settings, 3), "u-never-seen"]:
        row = read_rows(store, layout.user_reads, USER_KEY, [user])
        served = feature_matrix(
            layout, {k: v[0] for k, v in row.items()}, gather_items(table, items, extra), at
        )
        entity_rows = [{USER_KEY: user, ITEM_KEY: item, "request_ts": at} for item in items]
        feast = reference.get_online_features(
            features=reference.get_feature_service(SERVICE), entity_rows=entity_rows
        ).to_dict()
        expected = pd.DataFrame({c: feast[c] for c in columns}).astype("float32").to_numpy()
        np.testing.assert_array_equal(served, expected, err_msg=f"user {user}")
        assert np.isfinite(served[:-1, columns.index("item_age_hours")]).all()
    assert np.isnan(served[-1, columns.index("item_good_rate_7d")])  # cold-start item


def test_rank_returns_sorted_scored_slates(world: Settings, servers: dict) -> None:
    url = servers["main"].wait_ready().url
    candidates = catalog_ids(world.root)[:100]
    for user in known_users(world, 5):
        reply = _rank(url, user, candidates, k=7)
        assert reply.status_code == 200, reply.text
        body = reply.json()
        scores = [item["score"] for item in body["items"]]
        assert len(scores) == 7 and scores == sorted(scores, reverse=True)
        assert (body["policy"], body["model_version"]) == ("champion", "1")
        assert [item["propensity"] for item in body["items"]] == [1.0] * 7  # epsilon 0
        assert {item["item_id"] for item in body["items"]} <= set(candidates)
        assert len(body["request_id"]) == 32
    # A user without online rows is scored by the model (missing user features), not the
    # fallback: new users are in its training data too.
    unknown = _rank(url, "u-never-seen", candidates).json()
    assert (unknown["policy"], unknown["model_version"]) == ("champion", "1")
    assert unknown["reason"] == "champion v1 (new user: no online row)"
    scores = [item["score"] for item in unknown["items"]]
    assert len(set(scores)) > 1 and scores == sorted(scores, reverse=True)
    fresh = _rank(url, known_users(world, 1)[0], ["i-brand-new", *candidates[:20]], k=21)
    assert fresh.status_code == 200 and fresh.json()["policy"] == "champion"
    assert httpx.get(f"{url}/livez").status_code == 200
    docs = httpx.get(f"{url}/docs.json").json()
    assert "RankRequest" in str(docs) and "propensity" in str(docs)


def test_the_swagger_page_describes_the_ranker(servers: dict) -> None:
    """/docs.json over HTTP: our title, description, package version and example bodies, not
    BentoML's default README and version "None"."""
    url = servers["main"].wait_ready().url
    reply = httpx.get(f"{url}/docs.json")
    assert reply.status_code == 200, reply.text
    docs = reply.json()
    assert docs["info"]["title"] == "engageflow ranker"
    assert docs["info"]["version"] == version("engageflow") != "None"
    assert "champion" in docs["info"]["description"]
    assert "BentoML" not in str(docs["info"])
    rank = docs["paths"]["/rank"]["post"]
    request = rank["requestBody"]["content"]["application/json"]["schema"]["example"]
    assert RankRequest.model_validate(request).candidates
    response = rank["responses"]["200"]["content"]["application/json"]["schema"]["example"]
    assert RankResponse.model_validate(response).items
    # The example is a request the service answers.
    answer = httpx.post(f"{url}/rank", json=request)
    assert answer.status_code == 200, answer.text
    assert set(answer.json()) == set(response)


def _all_logged(settings: Settings) -> pd.DataFrame:
    files = [
        f
        for d in lake.partition_days(settings.root, "lake", "predictions")
        for f in lake.partition_files(settings.root, "lake", "predictions", d)
    ]
    return pd.concat(
        [pq.read_table(f).to_pandas() for f in files] or [pd.DataFrame({"request_id": []})]
    )


def _logged(settings: Settings, request_ids: set[str], timeout: float = 10.0) -> pd.DataFrame:
    """Prediction log rows of `request_ids`, waiting for the writer's next flush."""
    deadline = time.monotonic() + timeout
    while True:
        logged = _all_logged(settings)
        if request_ids <= set(logged["request_id"]):
            return logged[logged["request_id"].isin(request_ids)]
        assert time.monotonic() < deadline, "served slates missing from lake/predictions"
        time.sleep(0.5)


def test_the_simulator_ranks_through_the_service(world: Settings, servers: dict) -> None:
    url = servers["main"].wait_ready().url
    config = world.simulation.model_copy(update={"requests_per_day": 60})
    day = date(2026, 1, DAYS + 1)
    traffic = simulate_day(config, world.labels, world.seed, day, HttpPolicy(url))
    events = traffic.events.to_pandas()
    shown = events[events["event_type"] == "impression"]
    assert shown["request_id"].nunique() == 60 and shown["request_id"].str.len().eq(32).all()
    assert set(shown["policy"]) <= {"champion", "canary", "fallback"}
    assert "champion" in set(shown["policy"])
    logged = _logged(world, set(shown["request_id"]))
    assert {d.date() for d in logged["ts"]} == {day}  # logged at the simulated request time
    joined = shown.merge(logged, on=["request_id", "item_id"], suffixes=("", "_log"))
    assert len(joined) == len(shown) == len(logged)
    assert (joined["position"] == joined["position_log"]).all()
    assert np.allclose(joined["propensity"], joined["propensity_log"])
    assert (joined["policy"] == joined["policy_log"]).all()
    gap = (joined["ts"] - joined["ts_log"]).abs()
    assert gap.max() < pd.Timedelta(milliseconds=1)


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"candidates": ["i1"]}, "user_id"),
        ({"user_id": "u1", "candidates": []}, "candidates"),
        ({"user_id": "u1", "candidates": "i1"}, "candidates"),
        ({"user_id": "u1", "candidates": ["i1"], "k": 0}, "k"),
        ({"user_id": "u1", "candidates": ["i1"], "k": 101}, "k"),  # settings.serving.max_k
        ({"user_id": "u1", "candidates": ["i1"], "k": "ten"}, "k"),
        ({"user_id": "u1", "candidates": ["i1", "i1"]}, "candidates"),
        ({"user_id": "u1", "candidates": [f"i{n}" for n in range(1001)]}, "candidates"),
        ({"user_id": "u1", "candidates": ["i1"], "shard": 3}, "shard"),
    ],
)
def test_bad_requests_get_a_400_naming_the_field(servers: dict, body: dict, where: str) -> None:
    reply = httpx.post(f"{servers['main'].wait_ready().url}/rank", json=body)
    assert reply.status_code == 400, reply.text
    detail = reply.json()["detail"]
    assert [where] in [error["loc"] for error in detail] and all(e["msg"] for e in detail)


def _register_copy_of_v1(settings: Settings) -> str:
    """A second version (same model, new number): enough to tell who served a request."""
    import mlflow

    client = connect(settings)
    source = client.get_model_version(MODEL, "1")
    return str(mlflow.register_model(f"runs:/{source.run_id}/model", MODEL).version)


def test_canary_share_is_sticky_and_exact(world: Settings, servers: dict) -> None:
    url = servers["main"].wait_ready().url
    version = _register_copy_of_v1(world)
    connect(world).set_registered_model_alias(MODEL, "challenger", version)
    users = known_users(world, 300)
    candidates = catalog_ids(world.root)[:30]
    deadline = time.monotonic() + 20
    while _rank(url, users[0], candidates).json()["model_version"] is None:
        assert time.monotonic() < deadline
    while not any(_rank(url, u, candidates).json()["policy"] == "canary" for u in users[:30]):
        assert time.monotonic() < deadline, "the challenger was never picked up"
        time.sleep(0.5)
    served = {u: _rank(url, u, candidates).json() for u in users}
    canary = {u for u, body in served.items() if body["policy"] == "canary"}
    assert {served[u]["model_version"] for u in canary} == {version}
    salt = world.serving.canary_salt
    assert canary == {u for u in users if in_canary(u, 0.3, salt)}
    assert 0.2 < len(canary) / len(users) < 0.4
    again = {u for u in users[:60] if _rank(url, u, candidates).json()["policy"] == "canary"}
    assert again == canary & set(users[:60])  # sticky


def test_item_tables_follow_a_new_materialization_before_their_cache_expires(
    world: Settings, servers: dict
) -> None:
    """The loop replays days reproducibly only if a day's slates see the day before's features."""
    url = servers["main"].wait_ready().url
    store = feature_store(world)
    through = materialized_through(store)
    assert through is not None
    assert datetime.fromisoformat(served_models(url)["features_through"]) == through
    later = through + pd.Timedelta(days=1)  # past the data: no rows, a newer interval
    store.materialize(start_date=through, end_date=later)
    deadline = time.monotonic() + 10  # reload interval 1 s; the item cache lives an hour
    while datetime.fromisoformat(served_models(url)["features_through"]) < later:
        assert time.monotonic() < deadline, "item tables not reloaded after a materialization"
        time.sleep(0.2)


def test_hot_reload_follows_the_champion_alias(world: Settings, servers: dict) -> None:
    url = servers["main"].wait_ready().url
    users, candidates = known_users(world, 50), catalog_ids(world.root)[:50]
    statuses, versions, stop = [], [], threading.Event()

    def keep_asking() -> None:
        with httpx.Client() as client:
            n = 0
            while not stop.is_set():
                body = {"user_id": users[n % 50], "candidates": candidates, "k": 5}
                reply = client.post(f"{url}/rank", json=body)
                statuses.append(reply.status_code)
                versions.append(reply.json().get("model_version"))
                n += 1

    worker = threading.Thread(target=keep_asking)
    worker.start()
    try:
        time.sleep(0.5)
        new = _register_copy_of_v1(world)
        client = connect(world)
        client.set_registered_model_alias(MODEL, "champion", new)
        with contextlib.suppress(MlflowException):  # retire the canary test's challenger
            client.delete_registered_model_alias(MODEL, "challenger")
        deadline = time.monotonic() + 10  # a few reload intervals
        while not versions or versions[-1] != new:
            assert time.monotonic() < deadline, f"still {versions[-1:]} after moving the alias"
            time.sleep(0.2)
        time.sleep(1.5)  # past one more reload: the challenger's retirement is seen too
    finally:
        stop.set()
        worker.join()
    assert set(statuses) == {200} and len(statuses) > 20
    after = [_rank(url, u, candidates).json() for u in users]
    assert {(body["policy"], body["model_version"]) for body in after} == {("champion", new)}


def test_exploration_propensities_and_every_served_slate_logged(
    world: Settings, servers: dict
) -> None:
    server = servers["explore"].wait_ready()
    users, candidates = known_users(world, 40), catalog_ids(world.root)[:40]
    served = {}
    with httpx.Client() as client:
        for n in range(60):
            body = {"user_id": users[n % 40], "candidates": candidates, "k": 10}
            reply = client.post(f"{server.url}/rank", json=body).json()
            assert reply["policy"] == "explore"
            assert [i["propensity"] for i in reply["items"]] == [10 / 40] * 10
            served[reply["request_id"]] = [i["item_id"] for i in reply["items"]]
    assert not set(served) & set(_all_logged(world)["request_id"])  # all still in memory
    assert server.stop(signal.SIGTERM) is not None  # a clean shutdown flushes the log
    logged = _all_logged(world)
    explored = logged[logged["policy"] == "explore"].sort_values(["request_id", "position"])
    assert set(explored["request_id"]) == set(served)  # N served => the same N logged
    for request_id, slate in explored.groupby("request_id"):
        assert slate["item_id"].tolist() == served[request_id]
    assert np.allclose(explored["propensity"], 0.25)
    assert explored["feature_hash"].str.len().eq(16).all()


def test_fallback_when_the_online_store_dies(world: Settings, servers: dict, private_redis) -> None:
    url = servers["redis"].wait_ready().url
    user, candidates = known_users(world, 1)[0], catalog_ids(world.root)[:30]
    assert _rank(url, user, candidates).json()["policy"] == "champion"
    process, _ = private_redis
    process.kill()
    process.wait()
    for _ in range(5):
        reply = _rank(url, user, candidates)
        assert reply.status_code == 200
        body = reply.json()
        assert (body["policy"], body["model_version"]) == ("fallback", None)
        assert body["reason"].startswith(("feature store unavailable", "feature read exceeded"))
        scores = [item["score"] for item in body["items"]]
        assert len(scores) == 10 and scores == sorted(scores, reverse=True)
