"""Ingest when the data dir refuses the write: full, too-large files, read-only, not a directory.

Each fault gives a StorageError (an OSError, so DAG tasks retry it, unlike a DataError) naming
the path and the cause; nothing is half-written, the landing files are untouched, and once the
fault is gone the rerun writes the day. Tests run as root, where chmod does not stop a write, so
the faults are real: a tiny or read-only tmpfs (skipped where mounting is not allowed),
RLIMIT_FSIZE in a child process, and a regular file where the lake folder should be.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from crashing import run_with_file_size_limit
from stored import tree

from engageflow import lake
from engageflow.app.simulate import simulate
from engageflow.errors import DataError, StorageError
from engageflow.settings import Settings
from engageflow.simulator import POLICIES
from expectations.ingest import ingest_catalog, ingest_events

pytestmark = pytest.mark.integration

DAY = date(2026, 1, 1)


@pytest.fixture
def landed(settings: Settings) -> Settings:
    list(simulate(settings, 1, POLICIES["random"], start=DAY))
    ingest_catalog(settings, DAY)
    return settings


@contextlib.contextmanager
def _tmpfs(where: Path, options: str) -> Iterator[Path]:
    where.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True
    )
    # CI runs as root on a machine that mounts tmpfs: a refusal is a failure, never a skip.
    assert mounted.returncode == 0, f"cannot mount a tmpfs: {mounted.stderr.decode().strip()}"
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=True)


def _assert_refused_cleanly(settings: Settings, error: str, cause: str, before: dict) -> None:
    target = lake.partition_dir(settings.root, "lake", "events", DAY) / lake.PART_FILE
    assert f"cannot write {target}" in error and cause in error, error
    assert "Nothing was written there" in error
    events = settings.root / "lake" / "events"
    assert not events.is_dir() or not list(events.rglob("*.*"))  # no file, no temp file
    assert lake.read_partition(settings.root, "lake", "events", DAY) is None
    assert tree(settings.root / "landing") == before["landing"]
    assert tree(settings.root / "lake" / "items") == before["items"]


def _before(settings: Settings) -> dict:
    return {
        "landing": tree(settings.root / "landing"),
        "items": tree(settings.root / "lake" / "items"),
    }


@pytest.mark.parametrize(
    ("options", "cause"),
    [("size=16k", "No space left on device"), ("ro", "Read-only file system")],
    ids=["disk_full", "read_only"],
)
def test_a_full_or_read_only_lake_refuses_cleanly(landed: Settings, options, cause) -> None:
    settings, before = landed, _before(landed)
    with _tmpfs(settings.root / "lake" / "events", options):
        with pytest.raises(StorageError) as refused:
            ingest_events(settings, DAY)
        assert not isinstance(refused.value, DataError)  # infrastructure: the task retries
        _assert_refused_cleanly(settings, str(refused.value), cause, before)
    assert ingest_events(settings, DAY).rows > 0  # the fault is gone: the retry writes the day


def test_a_file_size_limit_refuses_cleanly(landed: Settings) -> None:
    before = _before(landed)
    error = run_with_file_size_limit(landed, "ingest", 8192, day=DAY.isoformat())
    assert error["type"] == "StorageError", error
    _assert_refused_cleanly(landed, error["message"], "File too large", before)
    assert ingest_events(landed, DAY).rows > 0


def test_a_file_where_the_lake_should_be_refuses_cleanly(landed: Settings) -> None:
    before = _before(landed)
    events = landed.root / "lake" / "events"
    shutil.rmtree(events, ignore_errors=True)
    events.write_text("not a folder\n")
    with pytest.raises(StorageError) as refused:
        ingest_events(landed, DAY)
    _assert_refused_cleanly(landed, str(refused.value), "Not a directory", before)
    assert events.read_text() == "not a folder\n"
    events.unlink()
    assert ingest_events(landed, DAY).rows > 0
