"""The Airflow UI as a user drives it, in headless Chromium: log in, trigger `train_ranker` from
its trigger dialog with a run config, watch the run succeed; then check behind the UI (REST API,
MLflow registry). Screenshots go to docs/img/airflow_trigger.png and docs/img/airflow_run.png."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest
from stack_world import running_stack, stack_settings, wait_parsed
from worlds import featured_lake

from dags.support.auth import airflow_credentials
from dags.support.rest import AirflowClient
from engageflow.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "img"
DAG = "train_ranker"
REASON = "browser test"
OTHER_DAGS = ["ingest_events", "build_features", "monitor_drift"]
RUN_TIMEOUT = 600  # seconds for the run to succeed; 2.5-5.5 min seen on 2 busy cores
# Small and fast: 2 train days (+1 validation, +1 test) and few trees on one thread.
TRAINING = {"train_days": 2, "num_boost_round": 30, "threads": 1, "bootstrap_samples": 100}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A featured world (exactly one training window) and the whole stack on free ports."""
    settings = stack_settings(
        tmp_path_factory.mktemp("airflow-ui") / "data",
        training=TRAINING,
        simulation={"requests_per_day": 1_000},
    )
    featured_lake(settings, _window_days(settings))
    with pytest.MonkeyPatch.context() as env:
        # No scheduled runs: train_ranker's latest interval is the real yesterday, which has no
        # data, and with max_active_runs=1 our run would queue behind that doomed one. Manual
        # runs (ours) still run. The stack's children inherit this variable.
        env.setenv("AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE", "False")
        # Airflow, and MLflow to look behind the UI; nothing is served here.
        with running_stack(settings, only=("airflow", "mlflow")) as running:
            with AirflowClient.from_settings(running) as airflow:
                wait_parsed(airflow, [DAG, *OTHER_DAGS])
                # Paused as well, so they stay idle even with job scheduling on.
                for dag_id in OTHER_DAGS:
                    assert airflow.pause(dag_id)["is_paused"] is True
            yield running


@pytest.fixture
def page(browser):
    """A page in the shared headless Chromium (tests/e2e/conftest.py)."""
    return browser.new_page()


def _window_days(settings: Settings) -> int:
    """Days in one training window; the world holds exactly one, ending on its last day."""
    config = settings.training
    return config.train_days + config.validation_days + config.test_days


def _base(settings: Settings) -> str:
    return f"http://{settings.airflow.host}:{settings.airflow.port}"


def _log_in(page, user: str, password: str) -> None:
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def test_a_wrong_password_is_refused_and_the_right_one_logs_in(stack: Settings, page) -> None:
    user, password = airflow_credentials(stack)
    page.goto(f"{_base(stack)}/dags/{DAG}")
    page.wait_for_url("**/auth/login**", timeout=30_000)  # nothing is shown without a login
    assert not page.get_by_test_id("trigger-dag-button").count()

    _log_in(page, user, password + "-wrong")
    page.get_by_text("Invalid credentials").wait_for(timeout=30_000)
    assert "/auth/login" in page.url

    _log_in(page, user, password)
    page.wait_for_url(f"**/dags/{DAG}", timeout=30_000)  # back where the user wanted to go
    page.get_by_test_id("trigger-dag-button").wait_for(timeout=30_000)


@pytest.mark.timeout(RUN_TIMEOUT + 300)
def test_trigger_train_ranker_from_the_dialog_and_watch_it_succeed(stack: Settings, page) -> None:
    from mlflow import MlflowClient
    from playwright.sync_api import expect

    last_day = stack.simulation.start + timedelta(days=_window_days(stack) - 1)
    mlflow_url = f"http://{stack.mlflow.host}:{stack.mlflow.port}"
    registry = MlflowClient(tracking_uri=mlflow_url, registry_uri=mlflow_url)
    model = stack.mlflow.registered_model
    before = {v.version for v in registry.search_model_versions(f"name='{model}'")}

    # Log in, then find the DAG from the list of DAGs, as a user would.
    page.goto(_base(stack), wait_until="networkidle")
    _log_in(page, *airflow_credentials(stack))
    page.get_by_test_id("nav-dags-link").click()
    page.locator(f"a[href='/dags/{DAG}']").first.click()
    page.wait_for_url(f"**/dags/{DAG}", timeout=30_000)
    # The list had a trigger button per DAG; the DAG's page has one, in its header.
    expect(page.get_by_test_id("trigger-dag-button")).to_have_count(1, timeout=30_000)

    # The trigger dialog: the DAG's params form (end, reason, broken_features).
    page.get_by_test_id("trigger-dag-button").click()
    dialog = page.locator("[role=dialog][data-state=open]")
    dialog.get_by_text(f"Trigger Dag - {DAG}").wait_for(timeout=30_000)
    dialog.locator("input[name=element_end]").fill(last_day.isoformat())
    dialog.locator("input[name=element_reason]").fill(REASON)
    IMAGES.mkdir(parents=True, exist_ok=True)
    dialog.screenshot(path=str(IMAGES / "airflow_trigger.png"))
    page.get_by_test_id("trigger-dag-submit").click()

    # The UI opens the new run's page; its header shows the run's state as the run goes.
    page.wait_for_url(f"**/dags/{DAG}/runs/*", timeout=30_000)
    run_id = unquote(page.url.rsplit("/runs/", 1)[1])
    state = _watch_run(page, stack, run_id)
    assert state == "Success", f"run {run_id} ended {state!r} in the UI"
    page.get_by_test_id("task-state-badge").first.wait_for(timeout=30_000)
    page.screenshot(path=str(IMAGES / "airflow_run.png"))

    # Behind the UI: the run the API knows is the one typed in, by the logged-in user.
    with AirflowClient.from_settings(stack) as airflow:
        run = airflow.run(DAG, run_id)
        tasks = {ti["task_id"]: ti["state"] for ti in airflow.task_instances(DAG, run_id)}
    assert run["state"] == "success" and run["run_type"] == "manual"
    assert run["triggered_by"] == "ui" and run["triggering_user_name"] == "admin"
    assert run["conf"]["end"] == last_day.isoformat() and run["conf"]["reason"] == REASON
    assert set(tasks) == {"window", "dataset", "train", "evaluate", "register", "gate"}
    assert set(tasks.values()) == {"success"}

    # ... and the registry holds one new version, trained on the window the dialog asked for.
    new = [v for v in registry.search_model_versions(f"name='{model}'") if v.version not in before]
    assert len(new) == 1, [v.version for v in new]
    training = registry.get_run(new[0].run_id)
    assert training.data.tags["trigger_reason"] == REASON
    assert training.data.params["window.test_end"] == last_day.isoformat()


def _watch_run(page, settings: Settings, run_id: str) -> str:
    """Watch the run page's state badge until the run finishes; the final badge text. The page
    polls by itself while the run is active; a reload every 30 s guards against a stalled poll."""
    badge = page.get_by_test_id("header-card").get_by_test_id("state-badge").first
    deadline = time.monotonic() + RUN_TIMEOUT
    reloaded = time.monotonic()
    while time.monotonic() < deadline:
        text = badge.inner_text(timeout=30_000).strip()
        if text in ("Success", "Failed"):
            if text == "Failed":  # say why, with the failed tasks' logs
                with AirflowClient.from_settings(settings) as airflow:
                    airflow.wait(DAG, run_id, timeout=0)
            return text
        if time.monotonic() - reloaded > 30:
            page.reload(wait_until="networkidle")
            reloaded = time.monotonic()
        page.wait_for_timeout(2_000)
    raise AssertionError(f"run {run_id} not finished after {RUN_TIMEOUT} s; last seen {text!r}")
