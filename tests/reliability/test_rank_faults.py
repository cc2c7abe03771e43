"""Faults under a running service: the online store (a private Redis) stopped while /rank is under
load and brought back, and the MLflow server stopped while serving and training."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx
import numpy as np
import pytest
from redis import exceptions as redis_errors
from servers import mlflow_server, start_redis, stop_redis
from worlds import known_users

from dags.support.runs import DEFAULT_ARGS
from engageflow.errors import DataError
from engageflow.registry import RegistryUnavailable, alias_version, register
from engageflow.settings import Settings
from feature_repo.materialize import materialize_days
from serving.launch import free_port
from serving.load import Load, open_loop
from serving.online_rows import catalog_ids
from serving.prediction_log import read_logged
from serving.sources import serving_store
from training.pipeline import run_all

pytestmark = pytest.mark.integration
RATE, SECONDS = 50, 15  # offered load: 750 requests
DOWN_AT, UP_AT = 4.0, 9.0  # seconds into the load
OUTAGE_REASONS = ("feature store unavailable", "feature read exceeded")


def _bodies(world: Settings, n: int, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    users, items = known_users(world, 200), catalog_ids(world.root)
    return [
        {"user_id": users[i % len(users)], "candidates": rng.choice(items, 30, False).tolist()}
        for i in range(n)
    ]


def test_redis_stopped_under_load_serves_flagged_fallback_then_recovers(
    world: Settings, serve, tmp_path: Path
) -> None:
    port, folder = free_port(), tmp_path / "redis"
    folder.mkdir()
    redis = start_redis(folder, port)
    try:
        feast = world.feast.model_copy(
            update={"online_store": "redis", "redis_connection": f"127.0.0.1:{port}"}
        )
        on_redis = world.model_copy(update={"feast": feast})
        materialize_days(on_redis, [world.simulation.start])
        server = serve(on_redis, epsilon=0.0, canary_share=0.0, log_flush_seconds=0.5)
        done: list[Load] = []
        url, bodies = f"{server.url}/rank", _bodies(world, RATE * SECONDS)
        load = threading.Thread(
            target=lambda: done.append(open_loop(url, bodies, RATE, server.headers))
        )
        began = time.perf_counter()
        load.start()
        time.sleep(DOWN_AT - (time.perf_counter() - began))
        stopping = time.perf_counter()
        stop_redis(redis, port)
        down = time.perf_counter()
        time.sleep(UP_AT - (down - began))
        up = time.perf_counter()
        redis = start_redis(folder, port)  # loads the snapshot SHUTDOWN SAVE wrote
        load.join()
    finally:
        if redis.poll() is None:
            stop_redis(redis, port)
    replies = done[0].replies
    assert [r.status for r in replies] == [200] * len(replies)  # no 5xx, no refused request
    bodies = [json.loads(r.body) for r in replies]
    policy = {b["request_id"]: b["policy"] for b in bodies}
    # By when each request really left and was answered (a busy client sends late).
    timed = list(zip(replies, bodies, strict=True))
    before = [b for r, b in timed if r.done_at < stopping]
    during = [b for r, b in timed if r.sent_at > down and r.done_at < up]
    after = [b for r, b in timed if r.sent_at > up + 3.0]
    assert {b["policy"] for b in before} == {"champion"}
    assert during and {b["policy"] for b in during} == {"fallback"}
    assert all(b["reason"].startswith(OUTAGE_REASONS) for b in during)
    assert {b["model_version"] for b in during} == {None}
    late = {b["reason"] for b in after if b["policy"] != "champion"}
    assert after and not late, f"no recovery 3 s after Redis answered: {late}"
    server.stop()  # a clean stop flushes the prediction log
    logged = read_logged(world.root, ["request_id", "policy"]).drop_duplicates("request_id")
    logged = logged[logged["request_id"].isin(policy.keys())]
    assert len(logged) == len(policy)  # served == logged
    assert (logged["policy"] == logged["request_id"].map(policy)).all()


def test_mlflow_server_stopped_keeps_serving_and_training_fails_clearly(
    world: Settings, serve, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Settings(data_dir=tmp_path / "mlflow-server")  # the server's own registry
    with mlflow_server(store, tmp_path / "mlflow.log") as mlflow:
        config = world.mlflow.model_copy(
            update={"tracking_uri": mlflow.url, "artifact_root": tmp_path / "artifacts"}
        )
        tracked = world.model_copy(update={"mlflow": config})
        last = world.simulation.start + timedelta(days=4)
        trained = run_all(tracked, last)  # window -> ... -> gate, through the server
        assert (trained["version"], trained["passed"]) == (1, True)
        server = serve(tracked, reload_interval_seconds=1.0, epsilon=0.0, canary_share=0.0)
        body = _bodies(world, 1)[0]
        assert httpx.post(f"{server.url}/rank", json=body).json()["model_version"] == "1"
    # The MLflow server is stopped now.
    with httpx.Client(base_url=server.url) as client:
        until, answers = time.monotonic() + 5.0, []  # several reload intervals
        while time.monotonic() < until:
            reply = client.post("/rank", json=body)
            answers.append((reply.status_code, *map(reply.json().get, ("policy", "model_version"))))
            time.sleep(0.05)
        assert set(answers) == {(200, "champion", "1")}
        assert client.get("/models").json()["champion"]["version"] == "1"
    # Training's registry calls fail at once with a message naming the server ...
    for call in (lambda: alias_version(tracked, "champion"), lambda: register(tracked, "x", "y")):
        with pytest.raises(RegistryUnavailable, match=f"MLflow server at {mlflow.url}") as failed:
            call()
        assert not isinstance(failed.value, DataError)
        # ... and train_ranker's tasks retry it (DataError alone fails at once).
        decision = DEFAULT_ARGS["retry_policy"].evaluate(failed.value, 1, 3)
        assert decision.action.value != "fail" and DEFAULT_ARGS["retries"] >= 1


def test_the_serving_store_gives_up_on_a_stopped_redis_at_once_and_reconnects(
    settings: Settings, tmp_path: Path
) -> None:
    """redis-py's default backoff (up to 10 s a retry) would hold the serving's read threads."""
    port, folder = free_port(), tmp_path / "redis"
    folder.mkdir()
    redis = start_redis(folder, port)
    feast = settings.feast.model_copy(
        update={"online_store": "redis", "redis_connection": f"127.0.0.1:{port}"}
    )
    store = serving_store(settings.model_copy(update={"feast": feast}))
    client = store._get_provider().online_store._get_client(store.config.online_store)
    try:
        assert client.ping()
        stop_redis(redis, port)
        began = time.perf_counter()
        with pytest.raises(redis_errors.ConnectionError):
            client.ping()
        assert time.perf_counter() - began < 1.0
        redis = start_redis(folder, port)
        assert client.ping()  # the pooled connection the stop closed is replaced on the retry
    finally:
        if redis.poll() is None:
            stop_redis(redis, port)
