"""The train_ranker steps: window -> dataset -> train -> evaluate -> register -> gate.

Each step is one call taking (settings, ...) and returning a small JSON-able dict (dates, paths,
run ids, version numbers), so the DAG passes references, never DataFrames. Files of a run live
in <data_dir>/training/<last test day>/<run>/, a new folder per run: a rerun of the same day
never touches another model's files. What monitoring needs later (the drift reference) is
logged to the model's MLflow run, not read from this folder.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from engageflow import lake
from engageflow.aliases import CHALLENGER, CHAMPION, move_alias
from engageflow.documents import json_ready
from engageflow.errors import DataError
from engageflow.registry import (
    REFERENCE_ARTIFACT,
    alias_version,
    code_version,
    load_booster,
    log_training_run,
    record_verdict,
    version_param,
)
from engageflow.registry import register as register_version
from engageflow.sampling import stratified_sample
from engageflow.scoring import predict
from engageflow.settings import Settings
from training import baselines, groups, metrics, plots
from training.boosting import is_ranking
from training.columns import (
    GROUP,
    LABEL,
    META_COLUMNS,
    TRUTH_COLUMN,
    check_columns,
    fit_columns,
)
from training.dataset import training_frame
from training.evaluate import Scores, comparison_table, evaluate_scores, tiebreak
from training.gate import decide
from training.sizing import sized_window
from training.train import train_model
from training.windows import Window, require_days

SPLITS = ("train", "validation", "test")
ACTOR = "train_ranker"


def seed_of(settings: Settings) -> int:
    return settings.training.seed if settings.training.seed is not None else settings.seed


def run_dir(settings: Settings, run: str) -> Path:
    """The folder of one training run (`run`, as in dataset["run"]: "<test_end>/<start>-<id>")."""
    return settings.root / "training" / run


def new_run(window: dict[str, str]) -> str:
    return f"{window['test_end']}/{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"


def plan_window(settings: Settings, end: date, train_days: int | None = None) -> dict[str, str]:
    """The window whose last test day is `end` (with `train_days` instead of the configured
    number when given), its evaluation spans sized by volume, checked complete in the lake."""
    if train_days is not None and train_days < 1:
        raise ValueError(f"train_days must be at least 1, got {train_days}")
    window = sized_window(settings, end, train_days or settings.training.train_days)
    require_days(settings, window)
    return window.to_dict()


def build_dataset(
    settings: Settings, window: dict[str, str], broken_features: str | None = None
) -> dict[str, Any]:
    """Each split joined with the FeatureService's features through Feast, written as Parquet.

    `broken_features` ("*" or comma-separated names) shuffles those features across the train
    rows: a deliberately broken model, to show the gate refusing it.
    """
    days = Window.from_dict(window)
    run = new_run(window)
    folder = run_dir(settings, run)
    service = settings.training.feature_service
    truth = all(lake.partition_files(settings.root, "truth", "impressions", d) for d in days.test)
    champion = alias_version(settings, CHAMPION)
    # The gate scores the champion on the test split: with its own features, if it has others.
    also = version_param(settings, champion, "feature_service") if champion else None
    paths, features, grouping = {}, [], None
    for split in SPLITS:
        test = split == "test"
        frame, features = training_frame(
            settings, getattr(days, split), service, test and truth, also if test else None
        )
        grouping = grouping or groups.resolve(frame, settings.training)  # the train split's
        frame[GROUP] = groups.group_codes(frame, grouping, settings.training)
        if split == "train" and broken_features:
            frame = shuffle_features(frame, features, broken_features, seed_of(settings))
        table = pa.Table.from_pandas(frame, preserve_index=False)
        paths[split] = str(lake.write_atomic(table, folder / f"{split}.parquet"))
    return {
        "window": window,
        "run": run,
        "paths": paths,
        "features": features,
        "feature_service": service,
        "broken_features": broken_features,
        "grouping": groups.describe(grouping, settings.training),
    }


def shuffle_features(
    frame: pd.DataFrame, features: list[str], which: str, seed: int
) -> pd.DataFrame:
    """`frame` with the named features (or "*": all) permuted across rows."""
    names = features if which == "*" else [n.strip() for n in which.split(",")]
    unknown = sorted(set(names) - set(features))
    if unknown:
        raise DataError(f"cannot break unknown features {unknown}; the features are {features}")
    rng = np.random.default_rng(seed)
    out = frame.copy()
    for name in names:
        out[name] = rng.permutation(out[name].to_numpy())
    return out


def _frame(dataset: dict[str, Any], split: str) -> pd.DataFrame:
    return pd.read_parquet(dataset["paths"][split])


def _fit_frame(dataset: dict[str, Any], split: str, where: str) -> pd.DataFrame:
    """The columns a fit reads of a split; the rest of the frame contract is checked on the
    file's schema, so the text columns (a third of the read time) are never decoded."""
    path = dataset["paths"][split]
    required = [*META_COLUMNS, GROUP, *dataset["features"]]
    check_columns(pq.read_schema(path).names, required, where)
    return pd.read_parquet(path, columns=fit_columns(dataset["features"]))


def fit_model(settings: Settings, dataset: dict[str, Any]) -> dict[str, Any]:
    """Train on the train split, early-stop on validation; the booster is saved as JSON."""
    trained = train_model(
        _fit_frame(dataset, "train", "train window"),
        _fit_frame(dataset, "validation", "validation window"),
        dataset["features"],
        settings.training,
        seed_of(settings),
    )
    folder = run_dir(settings, dataset["run"])
    path = folder / "model.json"
    with lake.atomic_path(path) as tmp:
        tmp.write_bytes(trained.booster.save_raw("json"))
    info = {
        "model_path": str(path),
        "params": trained.params,
        "best_iteration": trained.best_iteration,
        "validation_score": trained.validation_score,
        "imbalance": trained.imbalance,
        "positive_rate": trained.positive_rate,
        "train_seconds": trained.seconds,
        "search_trials": len(trained.trials),
        "refit_rows": trained.refit_rows,
        "engine": trained.engine,
        "dask_scheduler": settings.training.dask_scheduler if trained.engine == "dask" else None,
    }
    lake.write_text_atomic(json.dumps(trained.trials, indent=1), folder / "trials.json")
    return info


def _booster(path: str):
    import xgboost as xgb

    booster = xgb.Booster()
    booster.load_model(path)
    return booster


def registered_scores(settings: Settings, version: int, frame: pd.DataFrame, name: str) -> Scores:
    """A registered version's scores; probabilities when it was trained pointwise."""
    booster = load_booster(settings, version)
    objective = json.loads(booster.save_config())["learner"]["objective"]["name"]
    return Scores(name, predict(booster, frame), not is_ranking(objective))


def popularity(settings: Settings, dataset: dict[str, Any], test: pd.DataFrame) -> Scores:
    """The popularity baseline: each item's good-engagement rate in the train split."""
    train = _frame(dataset, "train")
    scores = baselines.popularity_scores(train, test, settings.training.popularity_prior)
    return Scores("popularity", scores, True)


def evaluate_model(
    settings: Settings, dataset: dict[str, Any], model: dict[str, Any]
) -> dict[str, Any]:
    """The comparison table on the test split (model, popularity, champion, oracle) and plots."""
    config = settings.training
    test = _frame(dataset, "test")
    booster = _booster(model["model_path"])
    probabilities = not is_ranking(config.objective)
    mine = Scores("model", predict(booster, test), probabilities)
    compared = [mine, popularity(settings, dataset, test)]
    champion = alias_version(settings, CHAMPION)
    if champion is not None:
        compared.append(registered_scores(settings, champion, test, f"champion v{champion}"))
    if TRUTH_COLUMN in test.columns and test[TRUTH_COLUMN].notna().all():
        compared.append(Scores("oracle", baselines.oracle_scores(test), True))
    table = comparison_table(test, compared, config, seed_of(settings))
    folder = run_dir(settings, dataset["run"]) / "evaluation"
    folder.mkdir(parents=True, exist_ok=True)
    table.to_csv(folder / "comparison.csv")
    (folder / "comparison.md").write_text(table.round(4).to_markdown())
    y = test[LABEL].to_numpy(dtype=float)
    artifacts = [folder / "comparison.csv", folder / "comparison.md"]
    artifacts += plots.roc_pr_plots(y, mine.values, folder)
    if probabilities:
        calibration = metrics.calibration_table(y, mine.values, config.calibration_bins)
        artifacts.append(plots.reliability_plot(calibration, folder / "reliability.png", "test"))
    importance = booster.get_score(importance_type="total_gain")
    (folder / "feature_importance.json").write_text(json.dumps(importance, indent=1))
    artifacts += [folder / "feature_importance.json"]
    artifacts.append(plots.importance_plot(importance, folder / "feature_importance.png"))
    # Strict JSON for XCom: a metric that cannot be measured here (SNIPS without propensities,
    # calibration of a ranking objective) is null, not NaN.
    return json_ready(
        {
            "metrics": evaluate_scores(test, mine, config, tiebreak(test, seed_of(settings))),
            "baselines": table.drop(index="model").to_dict(orient="index"),
            "artifacts": [str(p) for p in artifacts],
        }
    )


def drift_reference(settings: Settings, dataset: dict[str, Any]) -> Path:
    """A fixed-size sample of the train split (policy, labels, features), stratified by policy:
    what monitoring compares served days with, logged to the model's run (REFERENCE_ARTIFACT)."""
    columns = ["policy", "good", "bad", *dataset["features"]]
    frame = pd.read_parquet(dataset["paths"]["train"], columns=columns)
    sample = stratified_sample(frame, "policy", settings.monitoring.sample_size, seed_of(settings))
    path = run_dir(settings, dataset["run"]) / REFERENCE_ARTIFACT
    return lake.write_atomic(pa.Table.from_pandas(sample, preserve_index=False), path)


def register_model(
    settings: Settings,
    dataset: dict[str, Any],
    model: dict[str, Any],
    evaluation: dict[str, Any],
    reason: str = "manual run",
) -> dict[str, Any]:
    """Log the MLflow run and register a new version; no alias moves until the gate says so."""
    booster = _booster(model["model_path"])
    window = dataset["window"]
    params = {
        **model["params"],
        **{f"window.{key}": value for key, value in window.items()},
        **{
            k: model[k]
            for k in ("imbalance", "positive_rate", "best_iteration", "search_trials", "refit_rows")
        },
        "feature_service": dataset["feature_service"],
        "features": dataset["features"],
        "grouping": dataset["grouping"],
        **trained_where(model),
        **code_version(),
    }
    baseline_metrics = {
        f"{name.split(' ')[0]}.{metric}": value
        for name, row in evaluation["baselines"].items()
        for metric, value in row.items()
    }
    example = _frame(dataset, "test")[dataset["features"]].head(20)
    tags = {
        "feature_service": dataset["feature_service"],
        "window": window["test_end"],
        "trigger_reason": reason,
        "broken_features": str(dataset.get("broken_features")),
    }
    run_id, uri = log_training_run(
        settings,
        booster,
        params,
        {**evaluation["metrics"], **baseline_metrics, "train_seconds": model["train_seconds"]},
        [Path(p) for p in evaluation["artifacts"]],
        example,
        tags,
        drift_reference(settings, dataset),
    )
    version = register_version(settings, uri, run_id)
    return {"run_id": run_id, "model_uri": uri, "version": version}


def trained_where(model: dict[str, Any]) -> dict[str, str]:
    """The run params that say where a model trained: `engine`, and the Dask scheduler if any."""
    where = {"engine": model.get("engine", "local")}
    if model.get("dask_scheduler"):
        where["dask_scheduler"] = model["dask_scheduler"]
    return where


def gate_model(
    settings: Settings, dataset: dict[str, Any], registered: dict[str, Any]
) -> dict[str, Any]:
    """Run the offline gate for a registered version and move aliases on its verdict.

    A pass makes it `challenger`, which the canary serves until the A/B readout promotes or
    retires it; a refused version gets no alias and never serves. The one exception is the
    first model: nothing serves but the fallback, which it has just beaten offline, and an A/B
    test needs a champion arm, so it becomes champion at once."""
    config = settings.training
    test = _frame(dataset, "test")
    version = int(registered["version"])
    challenger = registered_scores(settings, version, test, f"challenger v{version}")
    champion = alias_version(settings, CHAMPION)
    if champion is None:
        reference = popularity(settings, dataset, test)
    else:
        reference = registered_scores(settings, champion, test, f"champion v{champion}")
    verdict = decide(test, challenger, reference, config, seed_of(settings), champion is None)
    record_verdict(settings, version, verdict.summary())
    alias = None
    if verdict.passed:
        alias = CHAMPION if champion is None else CHALLENGER
        move_alias(settings, alias, version, "gate", verdict.summary(), ACTOR)
    done = {"version": version, "alias": alias, "champion_before": champion}
    return json_ready({**done, **verdict.to_dict()})


def run_all(settings: Settings, end: date, broken_features: str | None = None) -> dict[str, Any]:
    """Every step in order, as the train_ranker DAG runs them (for the CLI and tests)."""
    dataset = build_dataset(settings, plan_window(settings, end), broken_features)
    model = fit_model(settings, dataset)
    evaluation = evaluate_model(settings, dataset, model)
    registered = register_model(settings, dataset, model, evaluation)
    return {"evaluation": evaluation, **gate_model(settings, dataset, registered)}
