"""Library workarounds the core needs, one place: each names the failure it answers.

Imports no library it works around (the core stays free of Feast); drop an entry once the
installed version no longer shows the failure.
"""

from __future__ import annotations

from pathlib import Path

# MLflow's HTTP client retries a refused connection with backoff for minutes by default
# (MLflow 3.17: 7 retries, backoff factor 2, about 4 minutes; timeout 120 s). Seen: a long-lived
# reader (the ranker's refresher) blocked while the MLflow server was down, although it polls
# again on its own. One retry, 10 s: the caller's own loop is the retry.
MLFLOW_FAIL_FAST_ENV = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1", "MLFLOW_HTTP_REQUEST_TIMEOUT": "10"}

# `mlflow server` (MLflow 3.17) starts about seven huey job consumers beside uvicorn for its GenAI
# jobs (judges, trace roll-ups), which this platform never submits. Seen: ~275 MB RSS each (about
# 2 GB in all) and ~5% of a core each while idle, polling: a busy neighbour for the ranker and
# Airflow on two cores. MLflow's own switch turns them off; tracking, registry and UI are unchanged.
MLFLOW_SERVER_ENV = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}


def is_feast_metrics_dir(name: str, value: str) -> bool:
    """Whether env var `name=value` is the Prometheus dir `import feast` made for its process.

    Feast 0.67 (`feast/metrics.py`, run on `import feast`) points PROMETHEUS_MULTIPROC_DIR and
    PROMETHEUS_MULTIPROCESS_DIR at a fresh temp dir `feast_metrics_*` and deletes it when that
    process exits. Seen: a child (Airflow, MLflow, BentoML) that inherited the variables failed
    on import once its parent had exited. Children must not inherit them.
    """
    return name.startswith("PROMETHEUS_MULTIPROC") and Path(value).name.startswith("feast_metrics_")
