"""What the Airflow REST client says when the api-server refuses or cannot answer, and when a
refusal is worth asking again (a database the api-server could not lock in time)."""

from __future__ import annotations

from airflow_client.client.exceptions import ApiException

from dags.support.compat import SQLITE_CONNECT_ARGS

# What to do about a refused request, by HTTP status.
HINTS = {
    401: "login refused or expired: check the stack's passwords file (dags/support/auth.py)",
    403: "the user lacks the permission: the local stack's admin role should have it",
    404: "not known (yet): is the DAG file parsed (`engageflow airflow dags list-import-errors`)?",
    409: "it exists already or conflicts with a running one: list it instead of creating it",
    422: "the request was malformed: see the API's explanation above",
}


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


# On SQLite a write may wait for the database lock up to pysqlite's timeout before the api-server
# answers (a PATCH timed out at 30 s on CI); the client waits longer than that.
ANSWER_TIMEOUT_S = SQLITE_CONNECT_ARGS["timeout"] + 30.0


DATABASE_ATTEMPTS = 3
DATABASE_WAIT_S = 5.0


def database_busy(err: BaseException) -> bool:
    """An AirflowError caused by HTTP 500/503 "Database error"/"Database is locked"."""
    cause = err.__cause__
    return (
        isinstance(cause, ApiException)
        and cause.status in (500, 503)
        and "database" in (cause.body or "").lower()
    )


def refused(what: str, err: ApiException) -> AirflowError:
    """The API's refusal of `what`: its status, its explanation and what to do."""
    hint = HINTS.get(err.status, "see the api-server's log (`engageflow status`)")
    return AirflowError(f"{what}: HTTP {err.status}: {(err.body or '')[:500]} ({hint})")


def unanswered(what: str, base_url: str, err: Exception) -> AirflowError:
    """No HTTP answer to `what` at all (refused connection, timeout)."""
    return AirflowError(
        f"{what}: no answer from {base_url} ({err}): is the api-server up (`engageflow status`)?"
    )
