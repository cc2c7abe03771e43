"""simulate_traffic: the demo's source of events, one simulated day whose slates come from the
running ranking service (`engageflow serve`), written to the landing zone.

Daily on `airflow.schedule` (the data interval's day), or by hand with the conf
`{"day": "YYYY-MM-DD"}`. Param `policy`: "service" (settings.serving host and port; before the
first champion the service answers with its explored fallback), a service URL, or one of the
simulator's own policies ("random") to run without a server. A rerun replaces the day's landing
partition. Emits the asset `engageflow.landing.events` with the extra `{"day": D, "days": [D]}`,
which starts ingest_events.
"""

from __future__ import annotations

from airflow.sdk import Asset, Param, dag, task

from dags.support.runs import (
    DEFAULT_ARGS,
    LANDING_EVENTS,
    START_DATE,
    TAGS,
    daily_schedule,
    event_extra,
    run_days,
)


@dag(
    dag_id="simulate_traffic",
    schedule=daily_schedule(),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=[*TAGS, "simulator"],
    doc_md=__doc__,
    params={
        "policy": Param(
            "service", type="string", description='"service", a service URL, or "random"'
        ),
    },
)
def simulate_traffic_dag() -> None:
    @task(outlets=[Asset(LANDING_EVENTS)])
    def simulate(**context) -> dict:
        from engageflow.app.simulate import simulate_served_day
        from engageflow.settings import get_settings

        [day] = run_days(context)
        done = simulate_served_day(get_settings(), day, context["params"]["policy"])
        # ingest_events reads the day from the asset event.
        context["outlet_events"][Asset(LANDING_EVENTS)].extra = event_extra([day])
        return {"day": day.isoformat(), "rows": done.rows, "events": str(done.events)}

    simulate()


simulate_traffic_dag()
