"""ranker_v2 against ranker_v1 in the closed loop: each ranks the slates its own users see.

Two arms on the same seed and world: days of uniformly random slates (logged exploration),
then a model on the arm's FeatureService becomes champion and `bentoml serve` ranks every
request over HTTP, day after day; each day is ingested, built, materialized and retrained on
(a model that passes the gate serves the next day). The requests are the same in both arms
(they are drawn before any policy answers), so each request is compared with itself.

Measured on the served days, per request: the realized good-engagement rate of the slate,
the simulator's true p_good of the items shown (ground truth, never in events), and NDCG@10
of the served order against the true p_good of the slate's items.

python -m benchmarks.closed_loop [--warm-days 10] [--days 10] [--requests 3000] [--train-days 7]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.report import load_average, write_results
from engageflow import lake, schema
from engageflow.aliases import CHALLENGER, promote
from engageflow.app.simulate import land_day, simulate
from engageflow.labels import impression_labels
from engageflow.settings import Settings
from engageflow.simulator import POLICIES
from feature_repo.backfill import backfill
from feature_repo.materialize import materialize_days
from serving.http_policy import HttpPolicy
from serving.launch import ServiceProcess, free_port
from training import pipeline

ARMS = ("ranker_v1", "ranker_v2")
KEY = ["user_id", "ts"]  # a request, the same in both arms
RESAMPLES = 2000
RELOAD_SECONDS = 1.0


def _retrain(settings: Settings, day: date) -> str:
    """Train on the window ending `day`; a model the gate passes serves from the next day."""
    result = pipeline.run_all(settings, day)
    if result["alias"] == CHALLENGER:  # no canary here: the arm's newest good model serves
        promote(settings, result["version"], "closed-loop benchmark", "bench")
    time.sleep(RELOAD_SECONDS * 3)  # the service follows the alias and the new day's items
    return f"v{result['version']} {result['alias'] or 'refused'}"


def run_arm(root: Path, service: str, args: argparse.Namespace) -> pd.DataFrame:
    """The arm's served days as one row per request with its measures."""
    settings = Settings(
        data_dir=root / service,
        simulation={"requests_per_day": args.requests},
        training={"feature_service": service, "train_days": args.train_days},
    )
    start = settings.simulation.start
    warm = [d.day for d in simulate(settings, args.warm_days, POLICIES["random"])]
    backfill(settings, warm)
    first = pipeline.run_all(settings, warm[-1])
    if first["alias"] != "champion":  # refused against popularity: serve it all the same
        promote(settings, first["version"], "closed-loop benchmark: a first champion", "bench")
    materialize_days(settings, warm)
    serving = settings.serving.model_copy(
        update={"port": free_port(), "reload_interval_seconds": RELOAD_SECONDS}
    )
    server = ServiceProcess(
        settings.model_copy(update={"serving": serving}), root / f"{service}.log"
    )
    served = [start + timedelta(days=args.warm_days + i) for i in range(args.days)]
    server.start().wait_ready()
    try:
        policy = HttpPolicy(server.url, api_key=None)
        for day in served:
            land_day(settings, day, policy)
            backfill(settings, [day])
            materialize_days(settings, [day])
            print(f"{service} {day}: {_retrain(settings, day)}", flush=True)
    finally:
        server.stop()
    return pd.concat([request_measures(settings, day) for day in served], ignore_index=True)


def request_measures(settings: Settings, day: date) -> pd.DataFrame:
    """Per request of `day`: good rate of the slate, mean true p_good, true NDCG@10."""
    events = lake.read_partition(settings.root, "lake", "events", day, schema.EVENTS).to_pandas()
    shown = impression_labels(events, settings.labels)
    truth = lake.read_partition(settings.root, "truth", "impressions", day).to_pandas()
    rows = shown.merge(truth[["request_id", "item_id", "p_good"]], on=["request_id", "item_id"])
    rows = rows.sort_values(["request_id", "position"])
    gain = 1 / np.log2(rows["position"].to_numpy() + 2)
    rows = rows.assign(dcg=rows["p_good"] * gain)
    rows["ideal"] = rows.groupby("request_id")["p_good"].transform(_ideal_dcg)
    per = rows.groupby("request_id").agg(
        user_id=("user_id", "first"),
        ts=("ts", "first"),
        good_rate=("good", "mean"),
        true_p_good=("p_good", "mean"),
        dcg=("dcg", "sum"),
        ideal=("ideal", "first"),
    )
    return per.assign(ndcg_at_10=per["dcg"] / per["ideal"]).reset_index(drop=True)


def _ideal_dcg(p_good: pd.Series) -> float:
    best = np.sort(p_good.to_numpy())[::-1][:10]
    return float((best / np.log2(np.arange(len(best)) + 2)).sum())


def paired(a: pd.DataFrame, b: pd.DataFrame, metric: str, seed: int = 0) -> tuple[float, ...]:
    """Mean of b - a over requests seen in both arms, with a bootstrap 95% interval."""
    both = _numbered(a).merge(_numbered(b), on=[*KEY, "nth"], suffixes=("_a", "_b"))
    diff = (both[f"{metric}_b"] - both[f"{metric}_a"]).to_numpy()
    draws = np.random.default_rng(seed).integers(0, len(diff), (RESAMPLES, len(diff)))
    means = diff[draws].mean(axis=1)
    return float(diff.mean()), *np.quantile(means, [0.025, 0.975]), len(diff)


def _numbered(requests: pd.DataFrame) -> pd.DataFrame:
    """`requests` with `nth`: a user's requests at one instant, numbered (rare, but seen)."""
    ordered = requests.sort_values([*KEY, "ndcg_at_10", "good_rate"], kind="stable")
    return ordered.assign(nth=ordered.groupby(KEY).cumcount())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm-days", type=int, default=10)
    parser.add_argument("--days", type=int, default=10, help="served days")
    parser.add_argument("--requests", type=int, default=3000, help="requests per day")
    parser.add_argument("--train-days", type=int, default=7, help="training.train_days")
    parser.add_argument(
        "--keep", default=None, help="a folder to keep each arm's requests in (and reuse)"
    )
    args = parser.parse_args()
    started = load_average()
    arms = {}
    with tempfile.TemporaryDirectory(prefix="engageflow-closed-loop-") as tmp:
        for service in ARMS:
            kept = Path(args.keep) / f"{service}.parquet" if args.keep else None
            if kept is not None and kept.exists():  # an arm kept by an earlier run
                arms[service] = pd.read_parquet(kept)
                continue
            arms[service] = run_arm(Path(tmp), service, args)
            if kept is not None:  # an arm takes a quarter of an hour: keep it for a rerun
                arms[service].to_parquet(kept)
    v1, v2 = (arms[s] for s in ARMS)
    rows = []
    for metric in ("ndcg_at_10", "good_rate", "true_p_good"):
        mean, low, high, n = paired(v1, v2, metric)
        rows.append(
            [
                metric,
                f"{v1[metric].mean():.4f}",
                f"{v2[metric].mean():.4f}",
                f"{mean:+.4f} [{low:+.4f}, {high:+.4f}]",
                f"{n:,}",
            ]
        )
    command = (
        f"python -m benchmarks.closed_loop --warm-days {args.warm_days} --days {args.days} "
        f"--requests {args.requests} --train-days {args.train_days}"
    )
    path = write_results(
        "closed_loop",
        "ranker_v2 against ranker_v1 in the closed loop (same seed, served over HTTP)",
        command,
        [
            "metric (served days, per request)",
            "ranker_v1",
            "ranker_v2",
            "v2 - v1, paired",
            "requests",
        ],
        rows,
        notes=(
            f"{args.warm_days} days of uniformly random slates, then {args.days} days served by "
            "each arm's champion through `bentoml serve` (default serving settings: 5% "
            "exploration), each day ingested, built, materialized and retrained on; a model the "
            "gate passes serves the next day (promoted directly: no canary in this benchmark). "
            "good_rate: share of a slate's impressions with good engagement (the labels); "
            "true_p_good: the simulator's ground-truth p_good of the items shown; ndcg_at_10: "
            "the served order against the true p_good of the slate's own items. Paired over the "
            "same requests (user and time) with a bootstrap 95% interval; one seed."
        ),
        load_before=started,
    )
    print(path.read_text())


if __name__ == "__main__":
    main()
