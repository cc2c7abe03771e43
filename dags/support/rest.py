"""A small client for the Airflow 3 REST API of the local stack, on the official
`apache-airflow-client` (`airflow_client.client`): log in, trigger, watch a run, backfill.

with AirflowClient.from_settings(get_settings()) as airflow:
    run = airflow.trigger("train_ranker", conf={"reason": "by hand"})
    airflow.wait("train_ranker", run["dag_run_id"], timeout=900)

Answers are plain JSON-shaped dicts (the models' `model_dump(mode="json")`), so callers need not
know the client's models. Not covered by the client (3.3.2): `POST /auth/token`, the JWT login of
Airflow 3 (the client only has the browser's redirecting `/auth/login`), so `token()` posts it
through the client's own HTTP layer and hands the JWT to `Configuration.access_token`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

import urllib3
from airflow_client import client as af
from airflow_client.client.exceptions import ApiException, UnauthorizedException
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_fixed

from dags.support.rest_errors import (
    ANSWER_TIMEOUT_S,
    DATABASE_ATTEMPTS,
    DATABASE_WAIT_S,
    AirflowError,
    DagRunFailed,
    database_busy,
    refused,
    unanswered,
)
from dags.support.rest_json import log_line, plain, when
from engageflow.polling import poll
from engageflow.settings import Settings

FINISHED = {"success", "failed"}
T = TypeVar("T")


class AirflowClient:
    """Bearer-token client over `airflow_client.client`; logs in at `POST /auth/token` when it
    has no token or the API answers 401 (expired), once per call."""

    def __init__(
        self, base_url: str, username: str, password: str, timeout: float = ANSWER_TIMEOUT_S
    ):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._login = {"username": username, "password": password}
        self._config = af.Configuration(host=self.base_url)
        self._api = af.ApiClient(self._config)
        self._dags = af.DAGApi(self._api)
        self._runs = af.DagRunApi(self._api)
        self._tasks = af.TaskInstanceApi(self._api)
        self._backfills = af.BackfillApi(self._api)

    @classmethod
    def from_settings(cls, settings: Settings) -> AirflowClient:
        """The stack's api-server (settings.airflow host/port) with the generated credentials."""
        from dags.support.auth import airflow_credentials

        user, password = airflow_credentials(settings)
        return cls(f"http://{settings.airflow.host}:{settings.airflow.port}", user, password)

    def __enter__(self) -> AirflowClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._api.rest_client.pool_manager.clear()

    def token(self) -> str:
        """A fresh JWT for the configured user."""
        url = f"{self.base_url}/auth/token"
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        try:
            answer = self._api.call_api(
                "POST", url, headers, body=self._login, _request_timeout=self.timeout
            )
            answer.read()
        except (ApiException, urllib3.exceptions.HTTPError) as err:  # no HTTP answer at all
            raise AirflowError(
                f"login at {url} failed: {err}: is the api-server up (`engageflow status`)?"
            ) from err
        if answer.status not in (200, 201):
            raise AirflowError(
                f"login as {self._login['username']!r} at {url} failed: "
                f"HTTP {answer.status} {answer.data.decode(errors='replace')[:200]}"
            )
        self._config.access_token = json.loads(answer.data)["access_token"]
        return self._config.access_token

    def _call(
        self, what: str, method: Callable[..., T], *args: Any, idempotent: bool = False, **kwargs
    ) -> T:
        """`_answer`, tried again when an idempotent request met a database the api-server
        could not lock in time (HTTP 500/503 "Database error"/"Database is locked" on SQLite
        under load, seen on CI)."""
        if not idempotent:
            return self._answer(what, method, *args, **kwargs)
        retrying = Retrying(
            retry=retry_if_exception(database_busy),
            stop=stop_after_attempt(DATABASE_ATTEMPTS),
            wait=wait_fixed(DATABASE_WAIT_S),
            reraise=True,
        )
        return retrying(self._answer, what, method, *args, **kwargs)

    def _answer(self, what: str, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`method(*args, **kwargs)` with a token (one re-login on 401); an HTTP error becomes
        an AirflowError naming the request, the status and the API's explanation."""
        if self._config.access_token is None:
            self.token()
        for attempt in range(2):
            try:
                return method(*args, _request_timeout=self.timeout, **kwargs)
            except ApiException as err:
                if isinstance(err, UnauthorizedException) and attempt == 0:
                    self.token()  # expired: log in again, once
                    continue
                raise refused(what, err) from err
            except urllib3.exceptions.HTTPError as err:
                raise unanswered(what, self.base_url, err) from err
        raise AssertionError("unreachable")

    def trigger(
        self,
        dag_id: str,
        conf: dict[str, Any] | None = None,
        logical_date: date | datetime | str | None = None,
        run_id: str | None = None,
    ) -> dict[str, Any]:
        """Create a DAG run (the scheduler starts it); returns the run, with its `dag_run_id`.

        A daily DAG's logical date is the end of the day it processes."""
        body = af.TriggerDAGRunPostBody(
            logical_date=when(logical_date), conf=conf or {}, dag_run_id=run_id
        )
        run = self._call(f"trigger {dag_id}", self._runs.trigger_dag_run, dag_id, body)
        return plain(run)

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return plain(
            self._call(
                f"run {dag_id}/{run_id}", self._runs.get_dag_run, dag_id, run_id, idempotent=True
            )
        )

    def runs(self, dag_id: str, limit: int = 100) -> list[dict[str, Any]]:
        """The DAG's runs, newest first."""
        page = self._call(
            f"runs of {dag_id}",
            self._runs.get_dag_runs,
            dag_id,
            limit=limit,
            order_by=["-run_after"],
            idempotent=True,
        )
        return [plain(run) for run in page.dag_runs]

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        page = self._call(
            f"task instances of {dag_id}/{run_id}",
            self._tasks.get_task_instances,
            dag_id,
            run_id,
            limit=1000,
            idempotent=True,
        )
        return [plain(ti) for ti in page.task_instances]

    def dag(self, dag_id: str) -> dict[str, Any]:
        """The DAG as the API knows it (404, an AirflowError, until it has been parsed)."""
        return plain(self._call(f"DAG {dag_id}", self._dags.get_dag, dag_id, idempotent=True))

    def pause(self, dag_id: str, paused: bool = True) -> dict[str, Any]:
        """Pause (or unpause) a DAG: a paused DAG gets no scheduled or asset-triggered runs."""
        body = af.DAGPatchBody(is_paused=paused)
        return plain(
            self._call(f"pause {dag_id}", self._dags.patch_dag, dag_id, body, idempotent=True)
        )

    def backfill(
        self,
        dag_id: str,
        from_date: date | datetime | str,
        to_date: date | datetime | str,
        reprocess: str = "none",
        max_active_runs: int = 1,
    ) -> dict[str, Any]:
        """Backfill the runs whose logical dates lie in [from_date, to_date], as the UI's
        Backfill dialog does. `reprocess`: "none", "failed" or "completed" (rerun those too)."""
        body = af.BackfillPostBody(
            dag_id=dag_id,
            from_date=when(from_date),
            to_date=when(to_date),
            reprocess_behavior=af.ReprocessBehavior(reprocess),
            max_active_runs=max_active_runs,
        )
        created = self._call(f"backfill {dag_id}", self._backfills.create_backfill, body)
        return plain(created)

    def backfills(self, dag_id: str) -> list[dict[str, Any]]:
        """The DAG's backfills, newest first."""
        page = self._call(
            f"backfills of {dag_id}", self._backfills.list_backfills, dag_id, order_by=["-id"]
        )
        return [plain(backfill) for backfill in page.backfills]

    def _backfill(self, backfill_id: int) -> dict[str, Any]:
        what = f"backfill {backfill_id}"
        return plain(self._call(what, self._backfills.get_backfill, backfill_id, idempotent=True))

    def wait_backfill(self, backfill_id: int, timeout: float = 600.0, poll: float = 2.0) -> dict:
        """Block until the scheduler marks the backfill complete (every run finished)."""
        return _poll(
            lambda: self._backfill(backfill_id),
            until=lambda backfill: bool(backfill["completed_at"]),
            timeout=timeout,
            every=poll,
            on_timeout=lambda _: TimeoutError(
                f"backfill {backfill_id} not complete after {timeout:.0f} s"
            ),
        )

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int) -> str:
        """A task try's log as text (the API's structured events, one per line)."""
        answer = self._call(
            f"log of {dag_id}/{run_id}/{task_id} try {try_number}",
            self._tasks.get_log,
            dag_id,
            run_id,
            task_id,
            try_number,
            accept="application/json",
        )
        content = answer.content.actual_instance or []
        lines = [line if isinstance(line, str) else line.to_dict() for line in content]
        return "\n".join(log_line(line) for line in lines)

    def wait(self, dag_id: str, run_id: str, timeout: float = 600.0, poll: float = 2.0) -> str:
        """Block until the run finishes; its final state. Raises DagRunFailed (failed tasks and
        the end of their logs) on failure, TimeoutError when it is still going."""
        state = _poll(
            lambda: self.run(dag_id, run_id)["state"],
            until=lambda state: state in FINISHED,
            timeout=timeout,
            every=poll,
            on_timeout=lambda state: TimeoutError(
                f"DAG run {dag_id}/{run_id} still {state} after {timeout:.0f} s"
            ),
        )
        if state == "failed":
            failed = {
                ti["task_id"]: self._tail(dag_id, run_id, ti)
                for ti in self.task_instances(dag_id, run_id)
                if ti["state"] in ("failed", "upstream_failed")
            }
            where = f"{self.base_url}/dags/{dag_id}/runs/{run_id}"
            raise DagRunFailed(dag_id, run_id, failed, where)
        return state

    def _tail(self, dag_id: str, run_id: str, ti: dict[str, Any], lines: int = 15) -> str:
        if ti["state"] != "failed":
            return "(upstream failed)"
        try:
            text = self.task_log(dag_id, run_id, ti["task_id"], max(1, ti["try_number"]))
        except AirflowError as err:
            return f"(log unavailable: {err})"
        return "\n".join(text.splitlines()[-lines:])


_poll = poll  # the methods' `poll` argument (seconds between asks) shadows the helper's name
