"""train_ranker: window -> dataset -> train -> evaluate -> register -> gate (a pass makes the
challenger; the first model, the champion).

Daily on `airflow.schedule`, for the window whose test day is the run's day; on demand with
params (the trigger form or a conf): `end` (last test day), `reason` (recorded on the model),
`train_days` (fewer train days than settings.training.train_days, e.g. for the first model),
`broken_features` (a test switch that shuffles features, to see the gate refuse a bad model).
monitor_drift triggers it on drift, and before the first champion (bootstrap).
"""

from __future__ import annotations

from airflow.sdk import Param, dag, task

from dags.support.runs import DEFAULT_ARGS, START_DATE, TAGS, daily_schedule, end_day


@dag(
    dag_id="train_ranker",
    schedule=daily_schedule(),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=[*TAGS, "training"],
    doc_md=__doc__,
    params={
        "end": Param(None, type=["null", "string"], description="last test day, YYYY-MM-DD"),
        "reason": Param(
            "scheduled retrain", type="string", pattern=r"\S", description="why this run"
        ),
        "broken_features": Param(None, type=["null", "string"], description='"*" or names'),
        "train_days": Param(
            None, type=["null", "integer"], minimum=1, description="train days (default: settings)"
        ),
    },
)
def train_ranker_dag() -> None:
    @task
    def window(**context) -> dict:
        from engageflow.settings import get_settings
        from training.pipeline import plan_window

        return plan_window(get_settings(), end_day(context), context["params"].get("train_days"))

    @task
    def dataset(planned: dict, **context) -> dict:
        from engageflow.settings import get_settings
        from training.pipeline import build_dataset

        broken = context["params"].get("broken_features")
        return build_dataset(get_settings(), planned, broken)

    @task
    def train(data: dict) -> dict:
        from engageflow.settings import get_settings
        from training.pipeline import fit_model

        return fit_model(get_settings(), data)

    @task
    def evaluate(data: dict, model: dict) -> dict:
        from engageflow.settings import get_settings
        from training.pipeline import evaluate_model

        return evaluate_model(get_settings(), data, model)

    @task
    def register(data: dict, model: dict, evaluation: dict, **context) -> dict:
        from engageflow.settings import get_settings
        from training.pipeline import register_model

        reason = context["params"]["reason"]
        return register_model(get_settings(), data, model, evaluation, reason)

    @task
    def gate(data: dict, registered: dict) -> dict:
        from engageflow.settings import get_settings
        from training.pipeline import gate_model

        return gate_model(get_settings(), data, registered)

    data = dataset(window())
    model = train(data)
    evaluation = evaluate(data, model)
    gate(data, register(data, model, evaluation))


train_ranker_dag()
