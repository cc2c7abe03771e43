"""Real backing services for the feature store: a built feature world, Redis db 11, and a
throwaway PostgreSQL database for the SQL registry."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date

import psycopg
import pytest
import redis

from engageflow.app.simulate import simulate
from engageflow.settings import Settings
from engageflow.simulator import POLICIES
from expectations.ingest import ingest_day
from feature_repo.offline import build_offline

REDIS_DB = 11  # this suite's own database; the fixture flushes it
REDIS_CONNECTION = f"127.0.0.1:6379,db={REDIS_DB}"
POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
FEATURE_DAYS = [date(2026, 1, 1), date(2026, 1, 2)]


@pytest.fixture
def feature_world(settings: Settings) -> Settings:
    """Two simulated days in the lake and their offline feature tables; nothing applied yet."""
    for done in simulate(settings, len(FEATURE_DAYS), POLICIES["random"]):
        ingest_day(settings, done.day)
        build_offline(settings, done.day)
    return settings


@pytest.fixture
def redis_db() -> Iterator[str]:
    """Redis db 11, empty before and after the test; yields Feast's connection string."""
    client = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB)
    client.flushdb()
    yield REDIS_CONNECTION
    client.flushdb()
    client.close()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database (SQLAlchemy URL for psycopg 3), dropped afterwards."""
    name = f"engageflow_feast_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
