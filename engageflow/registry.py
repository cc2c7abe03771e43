"""MLflow at the edges: tracking URI, experiment, one logged training run, registered versions.

Tracking and registry default to SQLite in the data dir with artifacts beside it; a PostgreSQL
URL (or an MLflow server) in settings.mlflow.tracking_uri runs the same code in production.
"""

from __future__ import annotations

import fcntl
import json
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engageflow.settings import Settings

if TYPE_CHECKING:
    import xgboost as xgb
    from mlflow import MlflowClient

REPO_ROOT = Path(__file__).resolve().parent.parent
# In every model's run: the sample of its training data that monitoring compares days with.
# Read through the run id, so it cannot change after the run and needs no worker's disk.
REFERENCE_ARTIFACT = "reference/train_sample.parquet"


def tracking_uri(settings: Settings) -> str:
    """settings.mlflow.tracking_uri, else SQLite at <data_dir>/mlflow/mlflow.db."""
    if settings.mlflow.tracking_uri:
        return settings.mlflow.tracking_uri
    folder = settings.root / "mlflow"
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'mlflow.db'}"


def artifact_root(settings: Settings) -> Path:
    return (settings.mlflow.artifact_root or settings.root / "mlflow" / "artifacts").resolve()


class RegistryUnavailable(RuntimeError):
    """The MLflow server does not answer: infrastructure, not data, so a retry may succeed."""


def check_server(uri: str, timeout: float = 5.0) -> None:
    """Raise RegistryUnavailable at once when the MLflow server at `uri` does not answer /health.

    MLflow's own client would retry with backoff for minutes before a vague error; this says
    what is wrong and leaves retrying to the caller (Airflow retries the task).
    """
    import httpx

    try:
        reply = httpx.get(f"{uri.rstrip('/')}/health", timeout=timeout)
        problem = None if reply.status_code == 200 else f"/health answered {reply.status_code}"
    except httpx.HTTPError as err:
        problem = f"{type(err).__name__}: {err}"
    if problem:
        raise RegistryUnavailable(
            f"the MLflow server at {uri} is unavailable ({problem}). Start it or fix "
            "settings.mlflow.tracking_uri (ENGAGEFLOW_MLFLOW__TRACKING_URI); a DAG task retries "
            "by itself, a command can simply be run again."
        )


def is_missing(err: Exception) -> bool:
    """The registry answered that an alias or model does not exist (rather than failing)."""
    code = getattr(err, "error_code", None)
    return code in ("INVALID_PARAMETER_VALUE", "RESOURCE_DOES_NOT_EXIST")


def connect(settings: Settings) -> MlflowClient:
    """Point MLflow (tracking and registry) at the settings' store and return a client.

    An MLflow server (http/https URI) must answer first: RegistryUnavailable otherwise.
    """
    import mlflow

    uri = tracking_uri(settings)
    if uri.startswith(("http://", "https://")):
        check_server(uri)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    database = _sqlite_file(uri)
    if database is None:
        return mlflow.MlflowClient(uri, uri)
    # Opening a SQLite store creates or migrates its tables on first use: processes starting
    # together, such as the ranker's workers on a fresh data dir, would run MLflow's
    # migrations at once and all but one fail (`table runs already exists`). One at a time.
    with Path(f"{database}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        client = mlflow.MlflowClient(uri, uri)  # opens the tracking store
        client.search_registered_models(max_results=1)  # and the registry's, in the same file
    return client


def _sqlite_file(uri: str) -> str | None:
    """The database file of a SQLite URI; None for any other store (or an in-memory one)."""
    if not uri.startswith("sqlite:"):
        return None
    from sqlalchemy.engine import make_url

    database = make_url(uri).database
    return database if database and database != ":memory:" else None


def experiment_id(client: MlflowClient, settings: Settings, name: str) -> str:
    """The experiment's id, created with its artifacts under artifact_root when new."""
    found = client.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    location = (artifact_root(settings) / name).as_uri()
    return client.create_experiment(name, artifact_location=location)


def code_version() -> dict[str, str]:
    """The git commit of this checkout (when there is one) and the installed package version."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=5
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return {"git_commit": commit or "unknown", "package_version": package_version()}


def package_version() -> str:
    """The installed engageflow version; "unknown" where only its files are (e.g. in a Bento)."""
    try:
        return version("engageflow")
    except PackageNotFoundError:
        return "unknown"


def log_training_run(
    settings: Settings,
    booster: xgb.Booster,
    params: dict[str, Any],
    metrics: dict[str, float | None],
    artifacts: list[Path],
    input_example: Any,
    tags: dict[str, str],
    reference: Path,
) -> tuple[str, str]:
    """One MLflow run with params, metrics, plots, the drift reference and the model (xgboost
    flavour).

    Returns (run id, model URI). NaN or None metrics (e.g. calibration of a ranking objective) are
    left out rather than logged as NaN.
    """
    import mlflow
    import mlflow.xgboost
    from mlflow.models import infer_signature

    client = connect(settings)
    experiment = experiment_id(client, settings, settings.mlflow.experiment)
    example = input_example.astype("float32")
    signature = infer_signature(example, booster.inplace_predict(example))
    with mlflow.start_run(experiment_id=experiment, tags=tags) as run:
        mlflow.log_params({key: _param(value) for key, value in params.items()})
        mlflow.log_metrics({k: v for k, v in metrics.items() if v is not None and v == v})
        for path in artifacts:
            mlflow.log_artifact(str(path), artifact_path="evaluation")
        mlflow.log_artifact(str(reference), artifact_path=str(Path(REFERENCE_ARTIFACT).parent))
        info = mlflow.xgboost.log_model(
            booster, name="model", signature=signature, input_example=example.head(5)
        )
    return run.info.run_id, info.model_uri


def _param(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text[:6000]  # MLflow's param value limit


def register(settings: Settings, model_uri: str, run_id: str) -> int:
    """A new version of the registered model from a logged model; returns its number."""
    import mlflow

    connect(settings)
    created = mlflow.register_model(
        model_uri, settings.mlflow.registered_model, tags={"run_id": run_id}
    )
    return int(created.version)


def alias_version(settings: Settings, alias: str) -> int | None:
    """The version an alias points at, or None when the alias (or the model) does not exist."""
    from mlflow.exceptions import MlflowException

    client = connect(settings)
    try:
        return int(
            client.get_model_version_by_alias(settings.mlflow.registered_model, alias).version
        )
    except MlflowException as err:
        if is_missing(err):
            return None
        raise  # an unreachable or failing registry is not "no champion"


def load_booster(settings: Settings, version: int) -> xgb.Booster:
    """The native booster of a version: scores, not the labels the pyfunc flavour returns."""
    import mlflow.xgboost

    connect(settings)
    return mlflow.xgboost.load_model(f"models:/{settings.mlflow.registered_model}/{version}")


def record_verdict(settings: Settings, version: int, verdict: str) -> None:
    """Keep the gate's verdict on the version itself, promoted or refused."""
    client = connect(settings)
    client.set_model_version_tag(settings.mlflow.registered_model, str(version), "gate", verdict)


def version_metric(settings: Settings, version: int, metric: str) -> float | None:
    """A test metric (e.g. "auc") of the run that produced a registered version."""
    run = _version_run(settings, version)
    return run.data.metrics.get(metric) if run else None


def version_param(settings: Settings, version: int, param: str) -> str | None:
    """A parameter (e.g. "feature_service") of the run that produced a registered version."""
    run = _version_run(settings, version)
    return run.data.params.get(param) if run else None


def _version_run(settings: Settings, version: int):  # -> mlflow.entities.Run | None
    client = connect(settings)
    run_id = client.get_model_version(settings.mlflow.registered_model, str(version)).run_id
    return client.get_run(run_id) if run_id else None


def run_file(settings: Settings, run_id: str, artifact: str, into: Path) -> Path | None:
    """Download one artifact of a run into `into`; None when the run has no such artifact."""
    import mlflow
    from mlflow.exceptions import MlflowException

    connect(settings)
    try:
        local = mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path=artifact, dst_path=str(into)
        )
    except (MlflowException, OSError) as err:
        if isinstance(err, OSError) or is_missing(err):
            return None
        raise
    return Path(local)
