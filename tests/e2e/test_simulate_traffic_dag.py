"""Real runs of `simulate_traffic`: a day lands atomically, names itself in the asset event,
and a rerun replaces it; ingest_events then takes the day from the conf like from the event."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pyarrow.parquet as pq

from engageflow import lake
from engageflow.app.simulate import EVENTS_FILE
from engageflow.settings import Settings

DAY = date(2026, 1, 2)


def _asset_events(run_id: str) -> list[tuple[str, dict]]:
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session

    with create_session() as session:
        events = session.query(AssetEvent).filter(AssetEvent.source_run_id == run_id).all()
        return [(event.asset.name, event.extra) for event in events]


def _simulate(dagbag, day: date, policy: str = "random"):
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC)
    return dagbag.get_dag("simulate_traffic").test(logical_date=end, run_conf={"policy": policy})


def test_a_simulated_day_lands_and_names_itself(dagbag, settings: Settings) -> None:
    run = _simulate(dagbag, DAY)
    assert run.state == "success"
    folder = lake.partition_dir(settings.root, "landing", "events", DAY)
    assert [p.name for p in folder.iterdir()] == [EVENTS_FILE]  # no temp files left behind
    first = pq.read_table(folder / EVENTS_FILE)
    assert first.num_rows > settings.simulation.requests_per_day
    assert set(first.column("policy").to_pylist()) == {"explore"}  # the random policy
    assert lake.read_partition(settings.root, "landing", "items", DAY).num_rows > 0
    assert _asset_events(run.run_id) == [
        ("engageflow.landing.events", {"day": DAY.isoformat(), "days": [DAY.isoformat()]})
    ]

    again = _simulate(dagbag, DAY)
    assert again.state == "success"
    assert [p.name for p in folder.iterdir()] == [EVENTS_FILE]
    assert pq.read_table(folder / EVENTS_FILE).equals(first)  # same seed, same day: same bytes

    ingest = dagbag.get_dag("ingest_events").test(run_conf={"day": DAY.isoformat()})
    assert ingest.state == "success"
    assert lake.read_partition(settings.root, "lake", "events", DAY).num_rows == first.num_rows
    assert _asset_events(ingest.run_id) == [
        ("engageflow.lake.events", {"day": DAY.isoformat(), "days": [DAY.isoformat()]})
    ]


def test_an_unknown_policy_fails_and_lands_nothing(dagbag, settings: Settings) -> None:
    assert _simulate(dagbag, DAY, policy="best-guess").state == "failed"
    assert not lake.partition_dir(settings.root, "landing", "events", DAY).exists()
