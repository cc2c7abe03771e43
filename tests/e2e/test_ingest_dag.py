"""Real runs of the `ingest_events` DAG: two intervals, then a rerun, with no duplicates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd

from engageflow import lake
from engageflow.app.simulate import simulate
from engageflow.settings import Settings
from engageflow.simulator import POLICIES

DAYS = [date(2026, 1, 1), date(2026, 1, 2)]


def _dag_run(dagbag, day: date):
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC)
    return dagbag.get_dag("ingest_events").test(logical_date=end)


def _run(dagbag, day: date) -> str:
    return _dag_run(dagbag, day).state


def _asset_extras(run_id: str) -> list[dict]:
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session

    with create_session() as session:
        events = session.query(AssetEvent).filter(AssetEvent.source_run_id == run_id).all()
        return [event.extra for event in events]


def test_two_intervals_and_a_rerun(dagbag, settings: Settings) -> None:
    landed = {d.day: d.rows for d in simulate(settings, 2, POLICIES["random"])}
    for day in DAYS:
        run = _dag_run(dagbag, day)
        assert run.state == "success"
        # build_features learns the day from the asset event.
        assert _asset_extras(run.run_id) == [{"day": day.isoformat(), "days": [day.isoformat()]}]
    first = {day: lake.read_partition(settings.root, "lake", "events", day) for day in DAYS}
    assert {day: t.num_rows for day, t in first.items()} == landed

    assert _run(dagbag, DAYS[0]) == "success"
    again = lake.read_partition(settings.root, "lake", "events", DAYS[0])
    assert again.equals(first[DAYS[0]])
    everything = pd.concat(
        lake.read_partition(settings.root, "lake", "events", d).to_pandas() for d in DAYS
    )
    assert everything["event_id"].is_unique
    assert len(everything) == sum(landed.values())
    items = lake.read_partition(settings.root, "lake", "items", DAYS[1])
    assert items.num_rows > settings.simulation.items


def test_a_day_with_nothing_landed_fails_loudly(dagbag, settings: Settings) -> None:
    assert _run(dagbag, date(2026, 3, 1)) == "failed"
    assert not lake.partition_dir(settings.root, "lake", "events", date(2026, 3, 1)).exists()


def test_a_day_years_before_the_platform_runs_on_its_own_date(dagbag, settings: Settings) -> None:
    old = date(2019, 5, 1)  # a public log's day: a DAG starting later would run no task
    world = settings.simulation.model_copy(update={"start": old})
    (landed,) = simulate(settings.model_copy(update={"simulation": world}), 1, POLICIES["random"])
    run = _dag_run(dagbag, old)
    assert run.state == "success"
    assert lake.read_partition(settings.root, "lake", "events", old).num_rows == landed.rows
