"""Model quality of Dask training against in-process training, per seed, on the same data.

The world of tests/integration/test_dask_training.py: six simulated days of the small world at
2,000 requests a day, train on three, early-stop on one, test on the last. For each seed the
same `training.pipeline` fit runs in this process and on a LocalCluster (2 workers x 1 thread).

python -m benchmarks.dask_quality [--seeds 7 8 9 10 11]
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import timedelta
from pathlib import Path

from benchmarks.report import load_average, write_results
from engageflow.app.simulate import simulate
from engageflow.settings import Settings
from engageflow.simulator import POLICIES
from feature_repo.backfill import backfill
from tests.small_world import SMALL_WORLD
from training import pipeline
from training.distributed import local_cluster

DAYS = 6
METRICS = ("auc", "ndcg_at_10")


def world(data_dir: Path) -> tuple[Settings, dict]:
    """The test's world and its training set (window ending on the last day)."""
    settings = Settings(
        data_dir=data_dir,
        simulation={**SMALL_WORLD, "requests_per_day": 2_000},
        training={"train_days": 3, "threads": 1},
    )
    backfill(settings, [done.day for done in simulate(settings, DAYS, POLICIES["random"])])
    end = settings.simulation.start + timedelta(days=DAYS - 1)
    return settings, pipeline.build_dataset(settings, pipeline.plan_window(settings, end))


def quality(settings: Settings, dataset: dict, seed: int, scheduler: str | None) -> dict:
    """AUC and NDCG@10 on the test window of one fit with `seed`, in-process or on `scheduler`."""
    settings.training.seed = seed
    settings.training.dask_scheduler = scheduler
    model = pipeline.fit_model(settings, dataset)
    return pipeline.evaluate_model(settings, dataset, model)["metrics"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[7, 8, 9, 10, 11])
    args = parser.parse_args()
    started = load_average()
    with tempfile.TemporaryDirectory() as tmp, local_cluster(workers=2, threads=1) as scheduler:
        settings, dataset = world(Path(tmp))
        runs = {
            seed: (
                quality(settings, dataset, seed, None),
                quality(settings, dataset, seed, scheduler),
            )
            for seed in args.seeds
        }
    rows = [[seed, *(f"{m[k]:.4f}" for k in METRICS for m in pair)] for seed, pair in runs.items()]
    gaps = {k: max(abs(a[k] - b[k]) for a, b in runs.values()) for k in METRICS}
    spread = {
        k: max(a[k] for a, _ in runs.values()) - min(a[k] for a, _ in runs.values())
        for k in METRICS
    }
    path = write_results(
        "dask_quality",
        "Dask training: model quality against in-process training",
        "python -m benchmarks.dask_quality --seeds " + " ".join(map(str, args.seeds)),
        ["seed", "AUC in-process", "AUC dask", "NDCG@10 in-process", "NDCG@10 dask"],
        rows,
        notes="Largest gap between the engines at one seed: "
        + ", ".join(f"{k} {gaps[k]:.4f}" for k in METRICS)
        + ". Spread of in-process results over the seeds alone: "
        + ", ".join(f"{k} {spread[k]:.4f}" for k in METRICS)
        + ". Both engines early-stop on the validation day and refit on train + validation.",
        load_before=started,
    )
    print(path.read_text())


if __name__ == "__main__":
    main()
