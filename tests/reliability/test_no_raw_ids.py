"""No raw user id and no pseudonym key in any store: real logs with planted, recognisable user
ids go through `engageflow import-events` (their attributes through `import-users`, live events
through the collector's `POST /events`), ingest,
features (offline and SQLite online), training and the MLflow registry, a served /rank
prediction log and monitoring (Evidently workspace and HTML); then every file of the data dir
and every captured log is scanned."""

from __future__ import annotations

import gzip
import signal
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pandas as pd
import pyarrow.parquet as pq
import pytest
from small_world import SMALL_WORLD

from engageflow import lake
from engageflow.aliases import CHAMPION, promote
from engageflow.app.simulate import EVENTS_FILE, simulate
from engageflow.pseudonym import pseudonym
from engageflow.registry import alias_version
from engageflow.settings import Settings
from engageflow.simulator import POLICIES
from feature_repo.backfill import backfill
from feature_repo.materialize import materialize_days
from monitoring.daily import monitor_day
from serving.launch import ServiceProcess, free_port
from training.pipeline import run_all

pytestmark = pytest.mark.integration

DAYS = 5  # train on day 2 (day 1 has no earlier features), test day 4, monitor day 5
FIRST = date(2026, 1, 1)
MARK = "@raw-user.example"  # every planted raw id ends with it
MAPPING = [
    "--user",
    "uid",
    "--item",
    "content",
    "--timestamp",
    "when",
    "--event",
    "action",
    "--dwell",
    "secs",
    "--request",
    "session",
    "--device",
    "device",
]
KEY = "planted-pseudonym-key-7f3e9b1c-do-not-store"


def raw_id(simulated: str) -> str:
    return f"planted.{simulated}{MARK}"


def exported_logs(settings: Settings, folder: Path) -> Path:
    """The simulated days as a partner's CSV export with raw user ids; the landing is emptied
    of them (and of the simulator's truth), as if the platform had only the real logs."""
    frames = []
    for offset in range(DAYS):
        landing = lake.partition_dir(settings.root, "landing", "events", FIRST + timedelta(offset))
        frames.append(pd.read_parquet(landing / EVENTS_FILE))
        (landing / EVENTS_FILE).unlink()
    events = pd.concat(frames, ignore_index=True)
    export = pd.DataFrame(
        {
            "uid": events["user_id"].map(raw_id),
            "content": events["item_id"],
            "when": events["ts"].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "action": events["event_type"],
            "secs": events["dwell_seconds"],
            "session": events["request_id"],
            "device": events["device"],
        }
    )
    path = folder / "partner_export.csv"
    export.to_csv(path, index=False)
    subprocess.run(["rm", "-rf", str(settings.root / "truth")], check=True)
    return path


def exported_users(settings: Settings, folder: Path) -> Path:
    """The simulated users' attributes as the partner's user table, with raw ids and an e-mail
    column the mapping leaves out; the simulator's own user snapshots leave the landing."""
    landing = settings.root / "landing" / "users"
    users = pd.read_parquet(sorted(landing.glob("date=*"))[-1])
    subprocess.run(["rm", "-rf", str(landing)], check=True)
    table = pd.DataFrame(
        {
            "uid": users["user_id"].map(raw_id),
            "email": users["user_id"].map(raw_id),  # unmapped: must never reach storage
            "age": users["age_band"].map({b: 10 * b + 10 for b in range(1, 8)}),
            "place": "region-" + users["region"].astype(str),
            "joined": users["signup_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "likes": users["declared_topics"].map(
                lambda t: "|".join(map(str, t)) if t is not None else ""
            ),
        }
    )
    path = folder / "partner_users.csv"
    table.to_csv(path, index=False)
    return path


def texts(path: Path) -> Iterator[bytes]:
    """A file's bytes, plus what compression hides: Parquet values, gzip and zip members."""
    blob = path.read_bytes()
    yield blob
    if blob[:4] == b"PAR1":
        parquet = pq.ParquetFile(path)
        yield str(parquet.schema_arrow.metadata).encode()
        yield parquet.read().to_pandas().to_csv().encode()
    elif blob[:2] == b"\x1f\x8b":
        yield gzip.decompress(blob)
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                yield archive.read(name)


def read_all(root: Path) -> dict[Path, list[bytes]]:
    """Every file under `root` (hidden and temporary ones too) with its decoded texts."""
    return {path: list(texts(path)) for path in sorted(root.rglob("*")) if path.is_file()}


def found(corpus: dict[Path, list[bytes]], needle: str, under: Path | None = None) -> list[Path]:
    """Files (under `under`, when given) whose bytes or decoded contents hold `needle`."""
    return [
        path
        for path, blobs in corpus.items()
        if (under is None or path.is_relative_to(under))
        and any(needle.encode() in b for b in blobs)
    ]


@pytest.fixture
def private(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("ENGAGEFLOW_PSEUDONYM_KEY", KEY)
    return Settings(
        data_dir=settings.data_dir,
        simulation=SMALL_WORLD,
        training={"train_days": 1, "threads": 1},
    )


def test_no_store_holds_a_raw_user_id_or_the_key(
    private: Settings, tmp_path: Path, capfd: pytest.CaptureFixture, caplog
) -> None:
    settings = private
    list(simulate(settings, DAYS, POLICIES["random"], start=FIRST))
    source = exported_logs(settings, tmp_path)
    raw_users = sorted(set(pd.read_csv(source, usecols=["uid"])["uid"]))
    engageflow = Path(sys.executable).with_name("engageflow")
    imported = subprocess.run(
        [str(engageflow), "import-events", str(source), *MAPPING],
        capture_output=True,
        text=True,
        check=True,
    )
    people = exported_users(settings, tmp_path)
    attributes = ["--age", "age", "--region", "place", "--signup-at", "joined"]
    attributes += ["--interests", "likes", "--interest-separator", "|"]
    imported_users = subprocess.run(
        [str(engageflow), "import-users", str(people), "--user", "uid", *attributes],
        capture_output=True,
        text=True,
        check=True,
    )
    days = [FIRST + timedelta(offset) for offset in range(DAYS)]
    backfill(settings, days)
    trained = run_all(settings, days[-2])
    if alias_version(settings, CHAMPION) is None:  # one train day may not beat popularity
        promote(settings, trained["version"], "privacy test needs a champion", "test")
    materialize_days(settings, days)

    served = ServiceProcess(
        settings.model_copy(
            update={"serving": settings.serving.model_copy(update={"port": free_port()})}
        ),
        settings.root / "logs" / "serve.log",
    )
    users = [pseudonym(raw, KEY.encode()) for raw in raw_users[:20]]
    items = lake.read_partition(settings.root, "lake", "items", days[-1])["item_id"].to_pylist()
    try:
        url = served.start().wait_ready().url
        for user in users:  # callers send pseudonyms (docs/privacy.md)
            reply = httpx.post(f"{url}/rank", json={"user_id": user, "candidates": items[:30]})
            assert reply.status_code == 200, reply.text
    finally:
        served.stop(signal.SIGTERM)  # a clean stop flushes the prediction log
    live = _collected(settings, raw_users[:5], items)
    monitor_day(settings, days[-1])

    stores = {
        "lake events": settings.root / "lake" / "events",
        "features": settings.root / "features",
        "online store": settings.root / "feast",
        "prediction log": settings.root / "lake" / "predictions",
        "MLflow": settings.root / "mlflow",
        "Evidently": settings.root / "evidently",
        "monitoring HTML": settings.root / "monitoring",
    }
    corpus = read_all(settings.root)
    for name, folder in stores.items():
        assert any(p.is_relative_to(folder) for p in corpus), f"{name}: nothing stored"
    # The scan sees through every format: the pseudonyms are found where they belong.
    for name in ("lake events", "features", "online store", "prediction log"):
        assert found(corpus, users[0], stores[name]), f"scanner missed {users[0]} in {name}"
    collected = settings.root / "landing" / "events"
    assert found(corpus, pseudonym(raw_users[0], KEY.encode()), collected), live
    # The user table's attributes joined the events by the same pseudonyms.
    attributes = lake.read_partition(settings.root, "features", "user_attributes", days[-1])
    assert set(users) <= set(attributes.column("user_id").to_pylist())

    assert found(corpus, MARK) == []
    for raw in raw_users:
        assert found(corpus, raw.removesuffix(MARK)) == [], raw
    assert found(corpus, KEY) == []
    assert not settings.key_file.exists()  # the key came from the environment: no copy kept
    logs = imported.stdout + imported.stderr + imported_users.stdout + imported_users.stderr + live
    logs += "".join(capfd.readouterr()) + caplog.text
    assert KEY not in logs and MARK not in logs


def _collected(settings: Settings, raw_users: list[str], items: list[str]) -> str:
    """Post live events with the raw ids to a real collector; its reply (for the log scan)."""
    collector = ServiceProcess(
        settings.model_copy(
            update={"collector": settings.collector.model_copy(update={"port": free_port()})}
        ),
        settings.root / "logs" / "collector.log",
        collector=True,
    )
    now = pd.Timestamp.now(tz="UTC").isoformat()
    batch = [
        dict(event_id=f"live-{n}", ts=now, user_id=raw, item_id=item, event_type="impression")
        for n, (raw, item) in enumerate(zip(raw_users, items, strict=False))
    ]
    try:
        url = collector.start().wait_ready(timeout=180).url
        reply = httpx.post(f"{url}/events", json={"events": batch}, timeout=60)
        assert reply.status_code == 200, reply.text
    finally:
        collector.stop()
    return reply.text
