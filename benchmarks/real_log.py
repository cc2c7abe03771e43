"""A public real log through the served path, on defaults: MovieLens 100k (GroupLens; as shipped
inside the `recbole==1.2.1` wheel on PyPI, fetched by pip and checked by hash, never committed).

Strict global time split: the last tenth of the ratings (by time, from the day it starts) is
the test period. The platform sees only the days before it: import (`import-events --rating`,
`import-items`, and `import-users` for age and postcode, which only `ranker_v2` reads),
backfill, train and gate (`run_all`, every setting at its default), materialize,
then `bentoml serve` ranks each test user's candidates over HTTP: the items they rated in the
test period and 100 random others. Relevance: a rating of 4 or 5 (the platform's good label).
Baselines on the same candidates: popularity and a Bayesian item mean (train period), and an
implicit matrix factorisation (PureSVD: truncated SVD of the train period's user x item matrix
of good ratings, scikit-learn). NDCG@10, MAP@10, MRR and per-user AUC (GAUC), each with a 95%
bootstrap interval over users, and the served ranker's paired difference to each baseline.

python -m benchmarks.real_log [--negatives 100] [--seed 0]
MovieLens terms: research use, cite Harper & Konstan, ACM TiiS 2015; no redistribution.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from datetime import date, timedelta
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
from sklearn.decomposition import TruncatedSVD
from sklearn.metrics import ndcg_score, roc_auc_score

from benchmarks.report import load_average, write_results
from engageflow import lake
from engageflow.importer import (
    CatalogMapping,
    ColumnMapping,
    UserMapping,
    import_events,
    import_items,
    import_users,
)
from engageflow.pseudonym import load_key, pseudonymize
from engageflow.settings import Settings
from feature_repo.backfill import backfill
from feature_repo.materialize import materialize_days
from serving.launch import ServiceProcess, free_port
from training.pipeline import run_all

WHEEL = "recbole==1.2.1"
WHEEL_SHA256 = "9c9948202011f37eb0a7c6768129313f00d6403ad221ec940d5e2d5d5f33a407"
INSIDE = "recbole/dataset_example/ml-100k/ml-100k"
CACHE = Path.home() / ".cache" / "engageflow" / "real_log"
K = 10
BOOTSTRAP = 1000


def fetch_wheel(cache: Path = CACHE) -> Path:
    """The recbole wheel from PyPI (pip, no dependencies), its hash checked."""
    cache.mkdir(parents=True, exist_ok=True)
    found = sorted(cache.glob("recbole-1.2.1-*.whl"))
    if not found:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:"]
        subprocess.run([*command, WHEEL, "-d", str(cache)], check=True)
        found = sorted(cache.glob("recbole-1.2.1-*.whl"))
    digest = hashlib.sha256(found[0].read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise RuntimeError(f"{found[0]} has sha256 {digest}, expected {WHEEL_SHA256}")
    return found[0]


def read_movielens(wheel: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(ratings: user, item, rating, timestamp; movies: item, genres) from the wheel."""
    with zipfile.ZipFile(wheel) as archive:
        with archive.open(f"{INSIDE}.inter") as raw:
            ratings = pd.read_csv(raw, sep="\t")
        with archive.open(f"{INSIDE}.item") as raw:
            movies = pd.read_csv(raw, sep="\t", encoding="utf-8")
    ratings.columns = ["user", "item", "rating", "timestamp"]
    ratings["timestamp"] = ratings["timestamp"].astype("int64")
    movies = movies.rename(columns={"item_id:token": "item", "class:token_seq": "genres"})
    movies["genres"] = movies["genres"].fillna("unknown")
    return ratings, movies[["item", "genres"]]


def read_users(wheel: Path) -> pd.DataFrame:
    """MovieLens' user table: user, age (years), zip (a postcode: pooled into regions of at
    least `importer.min_region_users` users on import). Gender and occupation are left out."""
    with zipfile.ZipFile(wheel) as archive, archive.open(f"{INSIDE}.user") as raw:
        users = pd.read_csv(raw, sep="\t", dtype=str)
    users = users.rename(columns=lambda c: c.split(":")[0])
    return users.rename(columns={"user_id": "user", "zip_code": "zip"})[["user", "age", "zip"]]


def split_day(ratings: pd.DataFrame) -> date:
    """The first day of the test period: the day in which the last tenth of ratings begins."""
    cut = ratings["timestamp"].quantile(0.9)
    return pd.Timestamp(cut, unit="s", tz="UTC").date()


def candidates(
    test: pd.DataFrame, items: np.ndarray, negatives: int, rng: np.random.Generator
) -> dict[str, tuple[list[str], np.ndarray]]:
    """Per test user with a good rating: (candidate items, relevance) - their rated items and
    `negatives` random others, in random order."""
    out = {}
    for user, rows in test.groupby("user"):
        good = (rows["rating"] >= 4).to_numpy()
        if not good.any():
            continue
        rated = rows["item"].astype(str).to_numpy()
        others = np.setdiff1d(items, rated)
        drawn = rng.choice(others, size=min(negatives, len(others)), replace=False)
        # Shuffled: ties (a constant scorer, an unknown user) must not favour the rated items.
        order = rng.permutation(len(rated) + len(drawn))
        items = np.concatenate([rated, drawn])[order]
        relevance = np.concatenate([good.astype(float), np.zeros(len(drawn))])[order]
        out[str(user)] = (items.tolist(), relevance)
    return out


def baseline_scores(train: pd.DataFrame, seed: int) -> dict[str, dict[str, float] | object]:
    """Item scores from the train period: popularity, Bayesian item mean, and a PureSVD model."""
    good = train[train["rating"] >= 4]
    popularity = good["item"].astype(str).value_counts().to_dict()
    prior, mean = 10.0, train["rating"].mean()
    by_item = train.groupby(train["item"].astype(str))["rating"].agg(["sum", "count"])
    bayes = ((by_item["sum"] + prior * mean) / (by_item["count"] + prior)).to_dict()
    users = pd.Index(good["user"].astype(str).unique())
    items = pd.Index(good["item"].astype(str).unique())
    matrix = np.zeros((len(users), len(items)))
    matrix[
        users.get_indexer(good["user"].astype(str)), items.get_indexer(good["item"].astype(str))
    ] = 1
    svd = TruncatedSVD(n_components=min(32, len(items) - 1), random_state=seed).fit(matrix)
    factors = svd.transform(matrix) @ svd.components_  # reconstructed user x item scores
    return {"popularity": popularity, "bayes": bayes, "puresvd": (users, items, factors)}


def score_baseline(name: str, model, user: str, items: list[str]) -> np.ndarray:
    if name == "puresvd":
        users, known, factors = model
        row = users.get_indexer([user])[0]
        cols = known.get_indexer(items)
        if row < 0:  # a user new in the test period: the SVD knows nothing, rank by nothing
            return np.zeros(len(items))
        return np.where(cols >= 0, factors[row, np.maximum(cols, 0)], -np.inf)
    return np.array([model.get(item, 0.0) for item in items], dtype=float)


def metrics(relevance: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """NDCG@10, MAP@10, MRR and AUC of one user's ranking (ties broken by candidate order)."""
    scores = np.where(
        np.isfinite(scores), scores, np.nanmin(scores[np.isfinite(scores)], initial=0) - 1
    )
    order = np.lexsort((np.arange(len(scores)), -scores))
    ranked = relevance[order]
    hits = np.flatnonzero(ranked > 0)
    precision = np.cumsum(ranked[:K]) / np.arange(1, K + 1)
    ap = float((precision * ranked[:K]).sum() / min(relevance.sum(), K))
    tiny = -1e-9 * np.arange(len(scores))  # ndcg_score averages ties; break them by order
    return {
        "ndcg_at_10": float(ndcg_score([relevance], [scores + tiny], k=K)),
        "map_at_10": ap,
        "mrr": float(1.0 / (hits[0] + 1)) if len(hits) else 0.0,
        "gauc": float(roc_auc_score(relevance, scores + tiny)),
    }


def bootstrap(values: np.ndarray, rng: np.random.Generator) -> tuple[float, float]:
    draws = rng.integers(0, len(values), size=(BOOTSTRAP, len(values)))
    means = values[draws].mean(axis=1)
    return float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


def platform_rankings(
    folder: Path,
    train_rows: pd.DataFrame,
    movies: pd.DataFrame,
    cands: dict,
    seed: int,
    service: str | None = None,
) -> tuple[dict, dict, dict]:
    """Import the train period, backfill, train and gate on defaults, serve, and rank each
    test user's candidates over HTTP: (scores per user, policy per user, the gate's result)."""
    settings = Settings(data_dir=folder / "data", seed=seed)
    if service:
        settings.training.feature_service = service
    # Serving only: rank every candidate (k up to the candidate count) and never explore.
    settings.serving.port, settings.serving.epsilon, settings.serving.max_k = free_port(), 0.0, 1000
    train_rows.to_csv(folder / "ratings.csv", index=False)
    movies.to_csv(folder / "movies.csv", index=False)
    ratings = ColumnMapping(user="user", item="item", timestamp="timestamp", rating="rating")
    import_events(settings, folder / "ratings.csv", ratings)
    genres = CatalogMapping("item", topic="genres", topic_separator=" ")
    import_items(settings, folder / "movies.csv", genres)
    read_users(fetch_wheel()).to_csv(folder / "users.csv", index=False)
    import_users(settings, folder / "users.csv", UserMapping("user", age="age", region="zip"))
    days = list(lake.partition_days(settings.root, "landing", "events"))
    backfill(settings, days)
    trained = run_all(settings, days[-1])
    materialize_days(settings, days)
    pseudonyms = dict(
        zip(cands, pseudonymize(np.array(list(cands)), load_key(settings)), strict=True)
    )
    at = pd.Timestamp(days[-1] + timedelta(days=1), tz="UTC").timestamp()
    served, policies = {}, {}
    server = ServiceProcess(settings, folder / "serve.log").start()
    try:
        server.wait_ready(probe="/livez")
        with httpx.Client(timeout=30) as client:
            for user, (items, _) in cands.items():
                body = {
                    "user_id": pseudonyms[user],
                    "candidates": items,
                    "k": len(items),
                    "context": {"request_ts": at},
                }
                reply = client.post(f"{server.url}/rank", json=body, headers=server.headers)
                reply.raise_for_status()
                got = reply.json()
                rank = {item["item_id"]: -item["position"] for item in got["items"]}
                served[user] = np.array([rank[i] for i in items], dtype=float)
                policies[user] = got["policy"]
    finally:
        server.stop()
    return served, policies, trained


def table(per_user: dict[str, dict], users: list[str], seed: int) -> list[list[str]]:
    """Each ranker's mean metrics with bootstrap intervals, and the served ranker's paired
    NDCG@10 difference to it."""
    rows = []
    for name in per_user:
        row = [name]
        for metric in ("ndcg_at_10", "map_at_10", "mrr", "gauc"):
            values = np.array([per_user[name][u][metric] for u in users])
            low, high = bootstrap(values, np.random.default_rng(seed))
            row.append(f"{values.mean():.4f} [{low:.4f}, {high:.4f}]")
        if name == "served":
            rows.append([*row, ""])
            continue
        diff = np.array(
            [per_user["served"][u]["ndcg_at_10"] - per_user[name][u]["ndcg_at_10"] for u in users]
        )
        low, high = bootstrap(diff, np.random.default_rng(seed))
        rows.append([*row, f"{diff.mean():+.4f} [{low:+.4f}, {high:+.4f}]"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--negatives", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--feature-service", default=None, help="train on this FeatureService (default: settings)"
    )
    args = parser.parse_args()
    started = load_average()
    ratings, movies = read_movielens(fetch_wheel())
    first_test = split_day(ratings)
    test_from = pd.Timestamp(first_test, tz="UTC").timestamp()
    train_rows = ratings[ratings["timestamp"] < test_from]
    test_rows = ratings[ratings["timestamp"] >= test_from]
    rng = np.random.default_rng(args.seed)
    cands = candidates(test_rows, movies["item"].astype(str).unique(), args.negatives, rng)
    with tempfile.TemporaryDirectory() as tmp:
        served, policies, trained = platform_rankings(
            Path(tmp), train_rows, movies, cands, args.seed, args.feature_service
        )
    per_user = {"served": {u: metrics(cands[u][1], s) for u, s in served.items()}}
    for name, model in baseline_scores(train_rows, args.seed).items():
        per_user[name] = {
            u: metrics(rel, score_baseline(name, model, u, items))
            for u, (items, rel) in cands.items()
        }
    users = list(cands)
    seen = set(train_rows["user"].astype(str))
    returning = [u for u in users if u in seen]
    fallback = sum(policies[u] == "fallback" for u in returning) / max(len(returning), 1)
    service = f" --feature-service {args.feature_service}" if args.feature_service else ""
    path = write_results(
        f"real_log_{args.feature_service}" if args.feature_service else "real_log",
        "Real log: MovieLens 100k through the served path, on defaults"
        + (f" but the {args.feature_service} FeatureService" if service else ""),
        f"python -m benchmarks.real_log --negatives {args.negatives} --seed {args.seed}{service}",
        ["ranker", "NDCG@10", "MAP@10", "MRR", "GAUC", "served - this, NDCG@10"],
        table(per_user, users, args.seed),
        notes=(
            f"{len(ratings):,} ratings, {ratings['user'].nunique():,} users, "
            f"{ratings['item'].nunique():,} films; test period from {first_test} "
            f"({len(test_rows):,} ratings, {len(users):,} users with a good rating, "
            f"{len(returning):,} of them seen before). Served by: "
            f"{pd.Series(policies).value_counts().to_dict()}; fallback share of returning "
            f"users {fallback:.1%}. The gate on the platform's own last days: "
            f"{'passed' if trained['passed'] else 'refused'} ({'; '.join(trained['reasons'])}). "
            f"Intervals: {BOOTSTRAP} bootstrap draws over users (95%). Candidates: the items a "
            f"user rated in the test period and {args.negatives} random others."
        ),
        load_before=started,
    )
    print(path.read_text())


if __name__ == "__main__":
    main()
