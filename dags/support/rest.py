"""A small client for the Airflow 3 REST API of the local stack: log in, trigger, watch a run.

with AirflowClient.from_settings(get_settings()) as airflow:
    run = airflow.trigger("train_ranker", conf={"reason": "by hand"})
    airflow.wait("train_ranker", run["dag_run_id"], timeout=900)
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

import httpx

from engageflow.settings import Settings

FINISHED = {"success", "failed"}


class AirflowError(RuntimeError):
    """The API refused a request; the message says which and why."""


class DagRunFailed(AirflowError):
    """A DAG run ended in failure; `failed` maps each failed task id to the end of its log."""

    def __init__(self, dag_id: str, run_id: str, failed: dict[str, str], where: str):
        self.dag_id, self.run_id, self.failed = dag_id, run_id, failed
        tasks = "\n".join(f"--- {task}:\n{tail}" for task, tail in failed.items()) or "(none)"
        super().__init__(
            f"DAG run {dag_id}/{run_id} failed; failed tasks: {', '.join(failed) or '-'} "
            f"(logs: {where}, or `engageflow airflow tasks ...`)\n{tasks}"
        )


def _iso(when: date | datetime | str | None) -> str | None:
    """An aware ISO timestamp (naive times and dates are UTC), as the API wants."""
    if when is None or isinstance(when, str):
        return when
    if not isinstance(when, datetime):
        when = datetime(when.year, when.month, when.day, tzinfo=UTC)
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).isoformat()


def _log_line(line: str | dict[str, Any]) -> str:
    """A structured log event as text, with the exception it carries (type: message)."""
    if isinstance(line, str):
        return line
    errors = [f"{e.get('exc_type')}: {e.get('exc_value')}" for e in line.get("error_detail") or []]
    return " | ".join([str(line.get("event", "")), *errors])


class AirflowClient:
    """Bearer-token client over httpx; fetches a token from `POST /auth/token` as needed."""

    def __init__(self, base_url: str, username: str, password: str, timeout: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self._login = {"username": username, "password": password}
        self._token: str | None = None
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, trust_env=False)

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
        self._http.close()

    def token(self) -> str:
        """A fresh JWT for the configured user."""
        answer = self._http.post("/auth/token", json=self._login)
        if answer.status_code not in (200, 201):
            raise AirflowError(
                f"login as {self._login['username']!r} at {self.base_url}/auth/token failed: "
                f"HTTP {answer.status_code} {answer.text[:200]}"
            )
        self._token = answer.json()["access_token"]
        return self._token

    def _call(self, method: str, path: str, headers: dict | None = None, **kwargs: Any) -> Any:
        for attempt in range(2):
            headers = {**(headers or {}), "Authorization": f"Bearer {self._token or self.token()}"}
            answer = self._http.request(method, path, headers=headers, **kwargs)
            if answer.status_code == 401 and attempt == 0:
                self._token = None  # expired: log in again, once
                continue
            if answer.is_error:
                raise AirflowError(
                    f"{method} {path}: HTTP {answer.status_code}: {answer.text[:500]}"
                )
            return answer.json()
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
        body: dict[str, Any] = {"logical_date": _iso(logical_date), "conf": conf or {}}
        if run_id is not None:
            body["dag_run_id"] = run_id
        return self._call("POST", f"/api/v2/dags/{quote(dag_id)}/dagRuns", json=body)

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return self._call("GET", f"/api/v2/dags/{quote(dag_id)}/dagRuns/{quote(run_id)}")

    def runs(self, dag_id: str, limit: int = 100) -> list[dict[str, Any]]:
        """The DAG's runs, newest first."""
        params = {"limit": limit, "order_by": "-run_after"}
        return self._call("GET", f"/api/v2/dags/{quote(dag_id)}/dagRuns", params=params)["dag_runs"]

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        path = f"/api/v2/dags/{quote(dag_id)}/dagRuns/{quote(run_id)}/taskInstances"
        return self._call("GET", path, params={"limit": 1000})["task_instances"]

    def dag(self, dag_id: str) -> dict[str, Any]:
        """The DAG as the API knows it (404, an AirflowError, until it has been parsed)."""
        return self._call("GET", f"/api/v2/dags/{quote(dag_id)}")

    def pause(self, dag_id: str, paused: bool = True) -> dict[str, Any]:
        """Pause (or unpause) a DAG: a paused DAG gets no scheduled or asset-triggered runs."""
        return self._call("PATCH", f"/api/v2/dags/{quote(dag_id)}", json={"is_paused": paused})

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
        body = {
            "dag_id": dag_id,
            "from_date": _iso(from_date),
            "to_date": _iso(to_date),
            "reprocess_behavior": reprocess,
            "max_active_runs": max_active_runs,
        }
        return self._call("POST", "/api/v2/backfills", json=body)

    def backfills(self, dag_id: str) -> list[dict[str, Any]]:
        """The DAG's backfills, newest first."""
        params = {"dag_id": dag_id, "order_by": "-id"}
        return self._call("GET", "/api/v2/backfills", params=params)["backfills"]

    def wait_backfill(self, backfill_id: int, timeout: float = 600.0, poll: float = 2.0) -> dict:
        """Block until the scheduler marks the backfill complete (every run finished)."""
        deadline = time.monotonic() + timeout
        while not (backfill := self._call("GET", f"/api/v2/backfills/{backfill_id}"))[
            "completed_at"
        ]:
            if time.monotonic() > deadline:
                raise TimeoutError(f"backfill {backfill_id} not complete after {timeout:.0f} s")
            time.sleep(poll)
        return backfill

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int) -> str:
        """A task try's log as text (the API's structured events, one per line)."""
        path = (
            f"/api/v2/dags/{quote(dag_id)}/dagRuns/{quote(run_id)}/taskInstances/"
            f"{quote(task_id)}/logs/{try_number}"
        )
        content = self._call("GET", path, headers={"Accept": "application/json"})["content"]
        return "\n".join(_log_line(line) for line in content)

    def wait(self, dag_id: str, run_id: str, timeout: float = 600.0, poll: float = 2.0) -> str:
        """Block until the run finishes; its final state. Raises DagRunFailed (failed tasks and
        the end of their logs) on failure, TimeoutError when it is still going."""
        deadline = time.monotonic() + timeout
        while (state := self.run(dag_id, run_id)["state"]) not in FINISHED:
            if time.monotonic() > deadline:
                raise TimeoutError(f"DAG run {dag_id}/{run_id} still {state} after {timeout:.0f} s")
            time.sleep(poll)
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
