"""monitor_drift: the day's served features, scores and outcomes vs the champion, in Evidently.

Runs whenever ingest_events updates the lake (asset `engageflow.lake.events`) for the day(s)
named in the asset events, or manually with the conf `{"day": "YYYY-MM-DD"}`. Snapshots go to
the Evidently workspace, HTML and summary.json to <data_dir>/monitoring/date=D/. A drift verdict
outside the cooldown triggers `train_ranker` with `{"end": D, "reason": ...}`, once per episode.
"""

from __future__ import annotations

from datetime import date, datetime

from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import Asset, dag, task

from engageflow.runs import DEFAULT_ARGS, LAKE_EVENTS, TAGS, requested_days

TRAIN_DAG = "train_ranker"  # monitoring.triggers.TRAIN_DAG, kept here to parse light
# decide_retrain's return value, the conf {"end": D, "reason": ...}; as a JSON string, which
# the operator parses.
DECISION = "{{ ti.xcom_pull(task_ids='decide_retrain') | tojson }}"
RUN_ID = "drift__{{ ti.xcom_pull(task_ids='decide_retrain')['end'] }}"  # see triggers.run_id_for


@dag(
    dag_id="monitor_drift",
    schedule=[Asset(LAKE_EVENTS)],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=[*TAGS, "monitoring"],
    doc_md=__doc__,
)
def monitor_drift_dag() -> None:
    @task
    def which_days(**context) -> list[str]:
        return [day.isoformat() for day in requested_days(context)]

    @task
    def monitor(days: list[str]) -> dict[str, dict]:
        from engageflow.settings import get_settings
        from monitoring.daily import monitor_day

        settings = get_settings()
        return {d: monitor_day(settings, date.fromisoformat(d))["verdict"] for d in days}

    @task.short_circuit
    def decide_retrain(verdicts: dict[str, dict]) -> dict[str, str] | None:
        from engageflow.settings import get_settings
        from monitoring.triggers import decide_retrain

        return decide_retrain(get_settings(), verdicts)

    trigger = TriggerDagRunOperator(
        task_id="trigger_train_ranker",
        trigger_dag_id=TRAIN_DAG,
        trigger_run_id=RUN_ID,
        conf=DECISION,
        skip_when_already_exists=True,
    )

    @task
    def record_trigger(conf: dict[str, str]) -> str:
        from engageflow.settings import get_settings
        from monitoring.triggers import record_trigger, run_id_for

        return str(record_trigger(get_settings(), conf, run_id_for(conf["end"])))

    decision = decide_retrain(monitor(which_days()))
    decision >> trigger >> record_trigger(decision)


monitor_drift_dag()
