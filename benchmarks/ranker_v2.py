"""ranker_v2 against ranker_v1 on the simulator, offline: the same window, the same test day.

Days of uniformly random slates (logged exploration, so no model's order biases the test day),
then a ranker_v1 model becomes the champion and a ranker_v2 model is gated against it: the
gate's paired bootstrap of the difference, and the test day's ranking metrics of both, on the
same rows (training/evaluate.py).

python -m benchmarks.ranker_v2 [--days 21] [--requests 5000]
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import timedelta

import pandas as pd

from benchmarks.report import load_average, write_results
from engageflow.aliases import promote
from engageflow.app.simulate import simulate
from engageflow.settings import Settings
from engageflow.simulator import POLICIES
from feature_repo.backfill import backfill
from training import pipeline

METRICS = ("position_auc", "auc", "ndcg_at_10", "good_rate_at_5", "bad_rate_at_5", "ece")


def _train(settings: Settings, service: str, end) -> dict:
    settings.training.feature_service = service
    return pipeline.run_all(settings, end)


def _returning_share(settings: Settings) -> float:
    """Share of test impressions whose user has no 28-day row but a long-horizon one."""
    test = pd.read_parquet(sorted(settings.root.glob("training/*/*/test.parquet"))[-1])
    return float((test["user_impressions_28d"].isna() & test["user_lt_impressions"].notna()).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=21, help="simulated days in all")
    parser.add_argument("--requests", type=int, default=5_000, help="requests per day")
    args = parser.parse_args()
    started = load_average()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=tmp, simulation={"requests_per_day": args.requests})
        backfill(settings, [done.day for done in simulate(settings, args.days, POLICIES["random"])])
        end = settings.simulation.start + timedelta(days=args.days - 1)
        first = _train(settings, "ranker_v1", end)
        if first["alias"] != "champion":  # refused against popularity: compare all the same
            promote(settings, first["version"], "benchmark: ranker_v1 as the reference", "bench")
        second = _train(settings, "ranker_v2", end)
        returning = _returning_share(settings)
    v2 = second["evaluation"]["metrics"]
    v1 = second["evaluation"]["baselines"][f"champion v{first['version']}"]
    popularity = second["evaluation"]["baselines"]["popularity"]
    rows = [
        [metric, f"{v1[metric]:.4f}", f"{v2[metric]:.4f}", f"{popularity[metric]:.4f}"]
        for metric in METRICS
        if metric in v2
    ]
    diff = second["primary"]
    rows.append(
        [
            f"gate: {diff['metric']} v2 - v1",
            "",
            f"{diff['difference']:+.4f} [{diff['lower']:+.4f}, {diff['upper']:+.4f}]",
            "",
        ]
    )
    path = write_results(
        "ranker_v2",
        "ranker_v2 against ranker_v1 on the simulator (offline, same test day)",
        f"python -m benchmarks.ranker_v2 --days {args.days} --requests {args.requests}",
        ["metric (test day)", "ranker_v1", "ranker_v2", "popularity"],
        rows,
        notes=(
            f"Uniformly random slates on every day; both models train on the same "
            f"{settings.training.train_days}-day window (gate verdict on v2: "
            f"{'passed' if second['passed'] else 'refused'}). {returning:.1%} of the test "
            "impressions came from users with no 28-day row but a long-horizon one (v1 sees "
            "them as new users). A closed-loop comparison (each version choosing the slates it "
            "learns from) is not measured here."
        ),
        load_before=started,
    )
    print(path.read_text())


if __name__ == "__main__":
    main()
