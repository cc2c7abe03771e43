"""ingest_events: move a day from the landing zone into the lake (catalog and any user
attributes, then events).

Runs when simulate_traffic lands a day (asset `engageflow.landing.events`, for the day(s) in
its events) or on `airflow.schedule` (the data interval's day), or by hand with the conf
`{"day": "YYYY-MM-DD"}`. A rerun replaces the day's lake partitions. Emits
`engageflow.lake.events` with the extra `{"day": newest, "days": [...]}` (the days ingested).
"""

from __future__ import annotations

from datetime import date

from airflow.sdk import Asset, dag, task

from dags.support.runs import (
    DEFAULT_ARGS,
    LAKE_EVENTS,
    LANDING_EVENTS,
    START_DATE,
    TAGS,
    daily_schedule,
    event_extra,
    run_days,
)


@dag(
    dag_id="ingest_events",
    schedule=daily_schedule(assets=[LANDING_EVENTS]),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=[*TAGS, "ingest"],
    doc_md=__doc__,
)
def ingest_events_dag() -> None:
    @task
    def which_days(**context) -> list[str]:
        return [day.isoformat() for day in run_days(context)]

    @task
    def ingest_catalog(days: list[str]) -> dict[str, int]:
        from engageflow.settings import get_settings
        from expectations.ingest import ingest_catalog

        settings = get_settings()
        return {day: ingest_catalog(settings, date.fromisoformat(day)).rows for day in days}

    @task
    def ingest_users(days: list[str]) -> dict[str, int | None]:
        from engageflow.settings import get_settings
        from expectations.ingest import ingest_users

        settings = get_settings()
        done = {day: ingest_users(settings, date.fromisoformat(day)) for day in days}
        return {day: None if users is None else users.rows for day, users in done.items()}

    @task(outlets=[Asset(LAKE_EVENTS)])
    def ingest_events(days: list[str], **context) -> dict[str, int]:
        from engageflow.settings import get_settings
        from expectations.ingest import ingest_events

        settings = get_settings()
        rows = {day: ingest_events(settings, date.fromisoformat(day)).rows for day in days}
        # Downstream DAGs (build_features, monitor_drift) read the day from the asset event.
        extra = event_extra([date.fromisoformat(day) for day in days])
        context["outlet_events"][Asset(LAKE_EVENTS)].extra = extra
        return rows

    days = which_days()
    [ingest_catalog(days), ingest_users(days)] >> ingest_events(days)


ingest_events_dag()
