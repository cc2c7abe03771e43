"""ingest_events: move one day from the landing zone into the lake (catalog, then events)."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Asset, CronDataIntervalTimetable, dag, task

from engageflow.runs import DEFAULT_ARGS, LAKE_EVENTS, TAGS, interval_day


@dag(
    dag_id="ingest_events",
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=[*TAGS, "ingest"],
    doc_md=__doc__,
)
def ingest_events_dag() -> None:
    @task
    def ingest_catalog(**context) -> int:
        from engageflow.ingest import ingest_catalog
        from engageflow.settings import get_settings

        return ingest_catalog(get_settings(), interval_day(context)).rows

    @task(outlets=[Asset(LAKE_EVENTS)])
    def ingest_events(**context) -> int:
        from engageflow.ingest import ingest_events
        from engageflow.settings import get_settings

        day = interval_day(context)
        # Downstream DAGs (build_features) read the day from the asset event.
        context["outlet_events"][Asset(LAKE_EVENTS)].extra = {"day": day.isoformat()}
        return ingest_events(get_settings(), day).rows

    ingest_catalog() >> ingest_events()


ingest_events_dag()
