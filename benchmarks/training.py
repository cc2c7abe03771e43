"""Training overhead and model quality on the simulator.

Speed: the pipeline's train step (`training.pipeline.fit_model`: read the Parquet splits,
check them, build the DMatrix, early-stopped xgboost.train, refit on train + validation, save)
on ~1M train rows, against a raw `xgboost.train` with the same parameters on the same, prebuilt
matrix; and against that plus a raw refit of the same trees, the same boosting work.
Quality on the test day: AUC against the oracle's (true p_good), NDCG@10 against popularity, and
the AUC of the early-stopped booster without the refit: what the refit's extra work buys. With
`--drift`, two topics' appeal shifts (+1.5 and -1.5 logits) from the validation day on, the case
the refit is for (results in docs/benchmarks/training_drift.md).

python -m benchmarks.training [--requests 25000] [--train-days 4] [--drift]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import timedelta

import numpy as np
import pandas as pd
import xgboost as xgb

from benchmarks.report import load_average, write_results
from engageflow.app.simulate import simulate
from engageflow.scoring import predict
from engageflow.settings import Settings
from engageflow.simulator import POLICIES
from feature_repo.backfill import backfill
from training import pipeline
from training.boosting import cut_at_best
from training.columns import LABEL
from training.metrics import auc
from training.train import base_params, eval_metric, matrix


def _raw_train(
    settings: Settings, dataset: dict
) -> tuple[float, float, xgb.DMatrix, dict, xgb.Booster]:
    """(seconds to build the matrices, seconds of xgboost.train, the validation matrix, the
    parameters, the early-stopped booster) with the step's parameters."""
    config = settings.training
    train = pd.read_parquet(dataset["paths"]["train"])
    valid = pd.read_parquet(dataset["paths"]["validation"])
    start = time.perf_counter()
    dtrain = matrix(train, dataset["features"], config.objective)
    dvalid = matrix(valid, dataset["features"], config.objective)
    built = time.perf_counter() - start
    params, _ = base_params(config, pipeline.seed_of(settings), float(train["good"].mean()))
    assert params["eval_metric"] == eval_metric(config)
    start = time.perf_counter()
    booster = xgb.train(
        params,
        dtrain,
        num_boost_round=config.num_boost_round,
        evals=[(dvalid, "validation")],
        early_stopping_rounds=config.early_stopping_rounds,
        verbose_eval=False,
    )
    return built, time.perf_counter() - start, dvalid, params, cut_at_best(booster)[0]


def _raw_refit(
    settings: Settings, dataset: dict, params: dict, model: dict, dvalid: xgb.DMatrix
) -> tuple[float, float]:
    """(seconds to build the train + validation matrix, seconds of xgboost.train) for the
    step's refit: its tree count on both windows. Checks it is the model the step saved."""
    both = pd.concat([pd.read_parquet(dataset["paths"][s]) for s in ("train", "validation")])
    start = time.perf_counter()
    dboth = matrix(both, dataset["features"], settings.training.objective)
    built = time.perf_counter() - start
    start = time.perf_counter()
    refit = xgb.train(params, dboth, num_boost_round=model["best_iteration"] + 1)
    seconds = time.perf_counter() - start
    saved = xgb.Booster(model_file=model["model_path"])
    if not np.array_equal(refit.predict(dvalid), saved.predict(dvalid)):
        raise AssertionError("the raw refit is not the model the step saved: not the same work")
    return built, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=25_000, help="requests per day")
    parser.add_argument("--train-days", type=int, default=4)
    parser.add_argument("--drift", action="store_true", help="shift two topics on validation")
    args = parser.parse_args()
    started = load_average()
    with tempfile.TemporaryDirectory() as tmp:
        simulation: dict = {"requests_per_day": args.requests}
        if args.drift:
            on = Settings().simulation.start + timedelta(days=args.train_days)
            simulation["drifts"] = [
                {"day": on, "topic": 0, "shift": 1.5},
                {"day": on, "topic": 1, "shift": -1.5},
            ]
        settings = Settings(
            data_dir=tmp, simulation=simulation, training={"train_days": args.train_days}
        )
        days = args.train_days + 2
        backfill(settings, [done.day for done in simulate(settings, days, POLICIES["random"])])
        end = settings.simulation.start + timedelta(days=days - 1)
        dataset = pipeline.build_dataset(settings, pipeline.plan_window(settings, end))
        rows = len(pd.read_parquet(dataset["paths"]["train"], columns=["good"]))
        start = time.perf_counter()
        model = pipeline.fit_model(settings, dataset)
        step = time.perf_counter() - start
        built, raw, dvalid, params, kept = _raw_train(settings, dataset)
        refit_built, refit = _raw_refit(settings, dataset, params, model, dvalid)
        evaluation = pipeline.evaluate_model(settings, dataset, model)
        test = pd.read_parquet(dataset["paths"]["test"])
        y = test[LABEL].to_numpy(dtype=float)
        saved = xgb.Booster(model_file=model["model_path"])
        with_refit, without = auc(y, predict(saved, test)), auc(y, predict(kept, test))
    mine, base = evaluation["metrics"], evaluation["baselines"]
    table = [
        ["train rows", f"{rows:,}", ""],
        ["trees (best iteration + 1)", model["best_iteration"] + 1, ""],
        [
            "pipeline train step, s",
            f"{step:.2f}",
            "Parquet read, checks, DMatrix, train, refit, save",
        ],
        ["raw xgboost.train, s", f"{raw:.2f}", f"same matrix (built in {built:.2f} s)"],
        ["overhead ratio", f"{step / raw:.2f}", "pipeline step / raw train"],
        [
            "raw refit on train + validation, s",
            f"{refit:.2f}",
            f"the step's refit, {model['best_iteration'] + 1} trees: the same model "
            f"(matrix built in {refit_built:.2f} s)",
        ],
        [
            "ratio to the same boosting work",
            f"{step / (raw + refit):.2f}",
            "pipeline step / (raw train + raw refit)",
        ],
        ["AUC model / oracle", f"{mine['auc']:.4f} / {base['oracle']['auc']:.4f}", "test day"],
        [
            "AUC with the refit / without",
            f"{with_refit:.4f} / {without:.4f}",
            "test day; without: the early-stopped booster (what the refit buys)",
        ],
        [
            "NDCG@10 model / popularity",
            f"{mine['ndcg_at_10']:.4f} / {base['popularity']['ndcg_at_10']:.4f}",
            "test day",
        ],
        [
            "good rate of top 5: model / popularity / oracle",
            f"{mine['good_rate_at_5']:.4f} / {base['popularity']['good_rate_at_5']:.4f} / "
            f"{base['oracle']['good_rate_at_5']:.4f}",
            "re-ranked shown slates",
        ],
    ]
    drift = " --drift" if args.drift else ""
    path = write_results(
        "training_drift" if args.drift else "training",
        "Training: pipeline overhead and model quality on the simulator"
        + (", two topics drifting from the validation day" if args.drift else ""),
        f"python -m benchmarks.training --requests {args.requests} "
        f"--train-days {args.train_days}{drift}",
        ["what", "value", "note"],
        table,
        notes="Features: the `ranker_v1` FeatureService, point-in-time joined through Feast's "
        "DuckDB offline store (training/dataset.py). The oracle scores with the simulator's "
        "true P(good), which knows each user's latent topic preferences. The step refits its "
        "tree count on train + validation (training.refit), boosting work the raw train does "
        "not do: the last ratio compares the same work.",
        load_before=started,
    )
    print(path.read_text())


if __name__ == "__main__":
    main()
