"""monitor_drift: the day's served features, scores and outcomes vs the champion, in Evidently;
then the A/B readout acted on, and train_ranker triggered when the loop needs a model.

Runs whenever ingest_events updates the lake (asset `engageflow.lake.events`) for the day(s)
named in the asset events, or manually with the conf `{"day": "YYYY-MM-DD"}`. Snapshots go to
the Evidently workspace, HTML, summary.json and ab.json to <data_dir>/monitoring/date=D/.

- A/B: `promote` makes the challenger champion, `roll_back` and `keep_champion` remove the
  challenger alias, `keep_testing` does nothing (monitoring/promotion.py; moves journaled with
  the readout).
- Training: with no champion yet, once the lake holds a trainable window ending on D,
  `{"end": D, "reason": "bootstrap: no champion yet", "train_days": n}` (run id bootstrap__D);
  otherwise a drift verdict on D-1 (test_days before D) outside the cooldown gives
  `{"end": D, "reason": ...}` (drift__D): D-1 is then its newest validation day, which the
  refit on train + validation learns from.

It waits for the lake only, not for `engageflow.features`: monitoring day D joins D's
impressions point in time with feature rows stamped at or before D 00:00, which the
build_features run of D-1 wrote; D's own run writes rows stamped D+1, which D never reads.
"""

from __future__ import annotations

from datetime import date

from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import Asset, dag, task

from dags.support.runs import DEFAULT_ARGS, LAKE_EVENTS, START_DATE, TAGS, run_days

TRAIN_DAG = "train_ranker"  # monitoring.triggers.TRAIN_DAG, kept here to parse light
# decide_training's return value {"kind", "run_id", "conf"}; the conf as a JSON string, which
# the operator parses.
CONF = "{{ ti.xcom_pull(task_ids='decide_training')['conf'] | tojson }}"
RUN_ID = "{{ ti.xcom_pull(task_ids='decide_training')['run_id'] }}"


@dag(
    dag_id="monitor_drift",
    schedule=[Asset(LAKE_EVENTS)],
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=[*TAGS, "monitoring"],
    doc_md=__doc__,
)
def monitor_drift_dag() -> None:
    @task
    def which_days(**context) -> list[str]:
        return [day.isoformat() for day in run_days(context)]

    @task
    def monitor(days: list[str]) -> dict[str, dict]:
        from engageflow.settings import get_settings
        from monitoring.daily import monitor_day

        settings = get_settings()
        return {d: monitor_day(settings, date.fromisoformat(d))["verdict"] for d in days}

    @task
    def act_on_ab(days: list[str]) -> list[dict]:
        from engageflow.settings import get_settings
        from monitoring.promotion import act_on_readout

        settings = get_settings()
        return [act_on_readout(settings, date.fromisoformat(d)) for d in days]

    @task.short_circuit
    def decide_training(verdicts: dict[str, dict], actions: list[dict]) -> dict | None:
        from engageflow.settings import get_settings
        from monitoring.triggers import decide_training

        return decide_training(get_settings(), verdicts, actions)

    trigger = TriggerDagRunOperator(
        task_id="trigger_train_ranker",
        trigger_dag_id=TRAIN_DAG,
        trigger_run_id=RUN_ID,
        conf=CONF,
        skip_when_already_exists=True,
    )

    @task
    def record_trigger(decision: dict) -> str:
        from engageflow.settings import get_settings
        from monitoring.triggers import record_trigger

        settings = get_settings()
        return str(record_trigger(settings, decision["conf"], decision["run_id"], decision["kind"]))

    days = which_days()
    verdicts = monitor(days)
    actions = act_on_ab(days)  # reads the readouts monitor wrote
    verdicts >> actions
    decision = decide_training(verdicts, actions)
    decision >> trigger >> record_trigger(decision)


monitor_drift_dag()
