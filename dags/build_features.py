"""build_features: lake events of a day -> validated offline feature tables -> online store.

Runs whenever ingest_events updates the lake (asset `engageflow.lake.events`), for the day(s)
named in the asset events, or manually with the conf `{"day": "YYYY-MM-DD"}`. Features of day D
are stamped D+1 00:00 UTC and use events before then only. `feast apply` runs only when the
definitions changed; the run fails when the online store disagrees with the offline store.
"""

from __future__ import annotations

from datetime import date, datetime

from airflow.sdk import Asset, dag, task

from dags.support.runs import DEFAULT_ARGS, FEATURES, LAKE_EVENTS, START_DATE, TAGS, run_days


@dag(
    dag_id="build_features",
    schedule=[Asset(LAKE_EVENTS)],
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=[*TAGS, "features"],
    doc_md=__doc__,
)
def build_features_dag() -> None:
    @task
    def which_days(**context) -> list[str]:
        return [day.isoformat() for day in run_days(context)]

    @task
    def build_offline(days: list[str]) -> dict[str, dict[str, int]]:
        from engageflow.settings import get_settings
        from feature_repo.offline import build_offline

        settings = get_settings()
        return {day: build_offline(settings, date.fromisoformat(day)) for day in days}

    @task
    def apply_definitions() -> list[str]:
        from engageflow.settings import get_settings
        from feature_repo.apply import apply_if_changed

        return apply_if_changed(get_settings())

    @task
    def materialize(days: list[str]) -> str:
        from engageflow.settings import get_settings
        from feature_repo.materialize import materialize_days

        done = materialize_days(get_settings(), [date.fromisoformat(day) for day in days])
        return done.end.isoformat()

    @task(outlets=[Asset(FEATURES)])
    def check_parity(end: str, **context) -> dict[str, int]:
        from engageflow.settings import get_settings
        from feature_repo.parity import check_parity

        as_of = datetime.fromisoformat(end)
        context["outlet_events"][Asset(FEATURES)].extra = {"as_of": end}
        return check_parity(get_settings(), as_of)

    days = which_days()
    applied = apply_definitions()
    build_offline(days) >> applied
    end = materialize(days)
    applied >> end
    check_parity(end)


build_features_dag()
