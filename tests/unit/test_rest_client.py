"""AirflowClient over a tiny fake api-server: JWT login, one re-login on 401, JSON-shaped
answers, errors that say the status and what to do, and reads retried on a busy database."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from dags.support.rest import AirflowClient, AirflowError

RUN = {
    "dag_run_id": "manual__1",
    "dag_id": "ingest_events",
    "logical_date": None,
    "queued_at": "2026-12-01T00:00:00Z",
    "start_date": None,
    "end_date": None,
    "duration": None,
    "data_interval_start": None,
    "data_interval_end": None,
    "run_after": "2026-12-01T00:00:00Z",
    "last_scheduling_decision": None,
    "run_type": "manual",
    "state": "queued",
    "triggered_by": "rest_api",
    "triggering_user_name": "admin",
    "conf": {},
    "note": None,
    "dag_versions": [],
    "bundle_version": None,
    "dag_display_name": "ingest_events",
    "partition_key": None,
}


BUSY = {"detail": {"reason": "Database error", "message": "Serious error when handling"}}


class FakeAirflow(BaseHTTPRequestHandler):
    tokens: ClassVar[list[str]] = []
    valid: ClassVar[set[str]] = {"jwt-2"}
    busy: ClassVar[list[str]] = []  # paths answered once each with a database error

    def log_message(self, *args: object) -> None:
        pass

    def _answer(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path == "/auth/token":
            if body.get("password") != "right":
                return self._answer(401, {"detail": "Invalid credentials"})
            self.tokens.append(f"jwt-{len(self.tokens) + 1}")
            return self._answer(201, {"access_token": self.tokens[-1]})
        if self.headers.get("Authorization") not in {f"Bearer {t}" for t in self.valid}:
            return self._answer(401, {"detail": "expired"})
        if self.path in self.busy:
            self.busy.remove(self.path)
            return self._answer(500, BUSY)
        assert body["logical_date"] is None
        return self._answer(200, {**RUN, "conf": body["conf"]})

    def do_GET(self) -> None:
        if self.path in self.busy:
            self.busy.remove(self.path)
            return self._answer(500, BUSY)
        self._answer(404, {"detail": "The Dag with ID: `nope` was not found"})


@pytest.fixture
def server() -> Iterator[str]:
    FakeAirflow.tokens, FakeAirflow.busy = [], []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeAirflow)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_trigger_logs_in_again_once_when_the_token_expired(server: str) -> None:
    with AirflowClient(server, "admin", "right") as airflow:
        run = airflow.trigger("ingest_events", conf={"day": "2026-12-01"})
    assert FakeAirflow.tokens == ["jwt-1", "jwt-2"]  # jwt-1 "expired", so a second login
    assert run["dag_run_id"] == "manual__1"
    assert run["state"] == "queued" and run["conf"] == {"day": "2026-12-01"}
    assert run["queued_at"].startswith("2026-12-01T00:00:00")  # JSON-shaped: ISO strings


def test_errors_name_the_request_the_status_and_what_to_do(server: str) -> None:
    with AirflowClient(server, "admin", "wrong") as wrong, pytest.raises(AirflowError) as err:
        wrong.token()
    assert "HTTP 401" in str(err.value) and "/auth/token" in str(err.value)
    with AirflowClient(server, "admin", "right") as airflow, pytest.raises(AirflowError) as err:
        airflow.dag("nope")
    assert "DAG nope: HTTP 404" in str(err.value)
    assert "was not found" in str(err.value) and "list-import-errors" in str(err.value)


def test_no_server_is_an_airflow_error_that_says_so() -> None:
    airflow = AirflowClient("http://127.0.0.1:9", "admin", "right", timeout=2)
    with airflow, pytest.raises(AirflowError, match="is the api-server up"):
        airflow.token()


def test_a_read_meeting_a_busy_database_is_tried_again_a_trigger_is_not(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dags.support.rest as rest

    monkeypatch.setattr(rest, "DATABASE_WAIT_S", 0.0)
    FakeAirflow.busy = ["/api/v2/dags/nope", "/api/v2/dags/nope"]
    with AirflowClient(server, "admin", "right") as airflow, pytest.raises(AirflowError) as err:
        airflow.dag("nope")
    assert "HTTP 404" in str(err.value) and FakeAirflow.busy == []  # two 500s, then the answer
    FakeAirflow.busy = ["/api/v2/dags/ingest_events/dagRuns"]
    with AirflowClient(server, "admin", "right") as airflow, pytest.raises(AirflowError) as err:
        airflow.trigger("ingest_events")
    assert "HTTP 500" in str(err.value) and "Database error" in str(err.value)
