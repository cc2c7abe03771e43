"""The event collector for real: `bentoml serve serving.collector:Collector` on loopback, its
embedded log (landing files that the real GX ingest then gates) and its Redis Streams log on
the running Redis (db 15, a stream key of this run's own), with a consumer group."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date

import httpx
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import redis

from engageflow.eventlog.drain import drain_once
from engageflow.eventlog.landing import LandingLog
from engageflow.eventlog.redis_streams import RedisLog, RedisReader
from engageflow.landing import landing_files
from engageflow.pseudonym import load_key, pseudonym
from engageflow.settings import Settings
from expectations.ingest import ingest_events
from serving.launch import ServiceProcess, free_port

pytestmark = pytest.mark.integration

REDIS_DB = 15  # this file's own database; only its own stream keys are touched
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"
KEY = "collector-test-key"
API_KEY = "collector-test-api-key"
MAX_BATCH = 50


def _settings(data_dir, serving: dict | None = None, **collector) -> Settings:
    config = {"port": free_port(), "max_batch_events": MAX_BATCH, **collector}
    return Settings(data_dir=data_dir, pseudonym_key=KEY, collector=config, serving=serving or {})


@pytest.fixture(scope="module")
def stream() -> Iterator[str]:
    key = f"engageflow-test:{uuid.uuid4().hex[:12]}:events"
    yield key
    redis.Redis.from_url(REDIS_URL).delete(key)


@pytest.fixture(scope="module")
def collectors(tmp_path_factory: pytest.TempPathFactory, stream: str) -> Iterator[dict]:
    """Two collectors started together: the embedded (landing) log and the Redis log."""
    base = tmp_path_factory.mktemp("collector")
    started = {
        "landing": ServiceProcess(
            _settings(base / "landing"), base / "landing.log", collector=True
        ),
        "redis": ServiceProcess(
            _settings(
                base / "streamed",
                {"api_key": API_KEY},  # the platform's API key guards /events as it does /rank
                log="redis",
                redis_url=REDIS_URL,
                stream=stream,
            ),
            base / "redis.log",
            collector=True,
        ),
    }
    try:
        for server in started.values():
            server.start()
        for server in started.values():
            server.wait_ready(timeout=180)
        yield started
    finally:
        for server in started.values():
            server.stop()


def events(n: int, at: pd.Timestamp, tag: str) -> list[dict]:
    return [
        {
            "event_id": f"{tag}-{i}",
            "ts": (at + pd.Timedelta(seconds=i)).isoformat(),
            "user_id": f"user-{i % 2}@example.com",
            "item_id": f"i{i}",
            "event_type": "click" if i % 2 else "impression",
            "dwell_seconds": 31.5 if i % 2 else None,
            "position": i,
            "request_id": f"req-{tag}",
            "policy": "champion",
            "model_version": "3",
            "propensity": 1.0,
            "device": "mobile",
            "hour": (at + pd.Timedelta(seconds=i)).hour,
        }
        for i in range(n)
    ]


def _recent() -> pd.Timestamp:
    """A minute ago, moved back to 23:00 of yesterday when that minute is close to midnight."""
    at = pd.Timestamp.now(tz="UTC").floor("s") - pd.Timedelta(minutes=1)
    return at if at.hour or at.minute > 5 else at.floor("D") - pd.Timedelta(hours=1)


def post(server: ServiceProcess, body: object) -> httpx.Response:
    return httpx.post(f"{server.url}/events", json=body, headers=server.headers, timeout=30)


def test_a_good_batch_lands_pseudonymized_and_passes_the_gate(collectors: dict) -> None:
    server = collectors["landing"]
    settings = server.settings
    at = _recent()
    sent = events(6, at, "good")
    answer = post(server, {"events": sent})
    assert answer.status_code == 200, answer.text
    day = at.date()
    assert answer.json() == {
        "accepted": 6,
        "ids": [f"date={day}/{f.name}" for f in _files(settings, day)],
    }
    landed = pq.read_table(_files(settings, day)[0]).to_pandas()
    key = load_key(settings)
    assert landed["event_id"].tolist() == [e["event_id"] for e in sent]
    assert landed["user_id"].tolist() == [pseudonym(e["user_id"], key) for e in sent]
    assert set(landed["request_id"]) == {pseudonym("req-good", key)}
    assert landed["ts"].tolist() == [pd.Timestamp(e["ts"]) for e in sent]
    assert landed["dwell_seconds"].isna().tolist() == [e["dwell_seconds"] is None for e in sent]
    assert "@example.com" not in landed.to_csv()  # no raw id reached storage
    assert post(server, {"events": sent}).status_code == 200  # a client's retry ...
    assert len(_files(settings, day)) == 1  # ... adds nothing
    ingested = ingest_events(settings, day)  # the daily gate, for real (GX suites)
    assert (ingested.rows_in, ingested.rows, ingested.rows_quarantined) == (6, 6, 0)


def _files(settings: Settings, day: date) -> list:
    return landing_files(settings.root, "events", day)


BAD = {
    "missing field": ({"item_id": None}, "item_id"),
    "wrong type": ({"propensity": "high"}, "propensity"),
    "unknown event type": ({"event_type": "view"}, "event_type"),
    "bad timestamp": ({"ts": "2026-13-01T00:00:00Z"}, "ts"),
    "timestamp without zone": ({"ts": "2026-01-01T00:00:00"}, "ts"),
    "a pseudonym for the raw id": ({"user_id": "p_" + "0a" * 12}, "user_id"),
}


def test_bad_batches_get_400_naming_event_and_field_and_nothing_lands(collectors: dict) -> None:
    server = collectors["landing"]
    before = _landed(server.settings)
    at = pd.Timestamp.now(tz="UTC").floor("s") - pd.Timedelta(minutes=1)
    for what, (change, field) in BAD.items():
        batch = events(3, at, what.replace(" ", "-"))
        batch[1] |= change
        answer = post(server, {"events": batch})
        assert answer.status_code == 400, what
        problems = [(p["event"], p["field"]) for p in answer.json()["problems"]]
        assert problems == [(1, field)], (what, answer.json())
        assert f"event 1, field '{field}'" in answer.json()["error"]
    oversized = post(server, {"events": events(MAX_BATCH + 1, at, "big")})
    assert oversized.status_code == 400
    assert f"at most {MAX_BATCH}" in oversized.json()["error"]
    for body in ({"event": []}, [1, 2], {"events": "x"}):
        assert post(server, body).status_code == 400
    bad_json = httpx.post(f"{server.url}/events", content=b"{not json", timeout=30)
    assert bad_json.status_code == 400
    assert _landed(server.settings) == before


def _landed(settings: Settings) -> list:
    """Every file under the landing zone, hidden (temporary) ones too."""
    return sorted(p for p in (settings.root / "landing").rglob("*") if p.is_file())


def test_the_redis_log_takes_batches_through_a_consumer_group(
    collectors: dict, stream: str
) -> None:
    server = collectors["redis"]
    settings = server.settings
    at = _recent()
    answer = post(server, {"events": events(4, at, "streamed")})
    assert answer.status_code == 200, answer.text
    (entry_id,) = answer.json()["ids"]
    assert post(server, {"events": [*events(2, at, "bad"), {"event_id": "x"}]}).status_code == 400
    client = redis.Redis.from_url(REDIS_URL)
    assert client.xlen(stream) == 1  # the refused batch added nothing
    anonymous = httpx.post(f"{server.url}/events", json={"events": events(2, at, "x")}, timeout=30)
    assert anonymous.status_code == 401 and "API key" in anonymous.json()["error"]
    assert client.xlen(stream) == 1  # nor did the one without the API key
    reader = RedisReader(client, stream, "landing", "drainer-1")
    read = reader.read(count=10)
    assert [e.id for e in read] == [entry_id]
    key = load_key(settings)
    assert read[0].events.column("user_id")[0].as_py() == pseudonym("user-0@example.com", key)
    # Killed before its ack: a restarted consumer of the same name gets the entry again, and
    # the drainer lands it (acknowledging it only then).
    restarted = RedisReader(client, stream, "landing", "drainer-1")
    assert drain_once(restarted, LandingLog(settings.root)) == 4
    assert client.xpending(stream, "landing")["pending"] == 0
    assert (
        drain_once(RedisReader(client, stream, "landing", "drainer-1"), LandingLog(settings.root))
        == 0
    )
    landed = pq.read_table(_files(settings, at.date())[0])
    assert landed.equals(read[0].events.sort_by([("ts", "ascending"), ("event_id", "ascending")]))


def test_redis_streams_append_read_ack_round_trip(stream: str) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    key = f"{stream}:round-trip"
    try:
        log = RedisLog(client, key, max_entries=1000)
        batches = [pa.table({"n": pa.array([i, i + 1], pa.int64())}) for i in range(3)]
        ids = [entry for batch in batches for entry in log.append(batch)]
        first = RedisReader(client, key, "sessions", "a")
        got = first.read(count=2)
        assert [e.id for e in got] == ids[:2]
        assert [e.events.equals(b) for e, b in zip(got, batches, strict=False)] == [True, True]
        first.ack([got[0].id])
        second = RedisReader(client, key, "sessions", "b")  # same group: only the undelivered one
        assert [e.id for e in second.read(count=10)] == ids[2:]
        assert [e.id for e in RedisReader(client, key, "sessions", "a").read()] == [ids[1]]
        other = RedisReader(client, key, "features", "a")  # another group reads all
        assert [e.id for e in other.read(count=10)] == ids
    finally:
        client.delete(key)
