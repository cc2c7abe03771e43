"""The local stack: Airflow (api-server, scheduler, dag-processor, triggerer, and a Celery worker
with the CeleryExecutor), MLflow, the ranker and the Evidently UI as local processes, each in its
own process group, recorded in `<data_dir>/stack/stack.json` so `down` stops exactly what `up`
started."""

from dags.support.auth import airflow_credentials
from engageflow.app.stack.control import ServiceStatus, StackError, down, status, up

__all__ = ["ServiceStatus", "StackError", "airflow_credentials", "down", "status", "up"]
