"""A movie-ratings export as a public one looks: sessions of ratings, bursty days, days with
no ratings at all, and a catalog without creation times whose genres are text."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

GENRES = ["Drama", "Comedy|Drama", "Action|Sci-Fi", "Horror", "Children|Animation"]


@dataclass(frozen=True)
class RatingsLog:
    ratings: Path  # userId, movieId, rating, timestamp (epoch seconds)
    movies: Path  # movieId, title, genres
    first: pd.Timestamp
    quiet_days: list[pd.Timestamp]  # days without a rating


def write_ratings_log(
    folder: Path, users: int = 150, movies: int = 120, days: int = 40, seed: int = 0
) -> RatingsLog:
    """Users rate a few films per session on random days; two days in the middle stay quiet."""
    rng = np.random.default_rng(seed)
    first = pd.Timestamp("2019-03-01", tz="UTC")
    quiet = {days // 3, days // 3 + 1}
    open_days = [d for d in range(days) if d not in quiet]
    ids = np.array([f"m{i}" for i in range(movies)])
    appeal = rng.dirichlet(np.full(movies, 0.3))
    rows = []
    for user in range(users):
        taste = rng.normal(size=len(GENRES))
        for _ in range(rng.integers(1, 5)):
            start = first + pd.Timedelta(days=int(rng.choice(open_days)))
            start += pd.Timedelta(seconds=int(rng.integers(0, 80_000)))
            for k in range(rng.integers(2, 12)):
                movie = int(rng.choice(movies, p=appeal))
                stars = np.clip(np.rint(3 + taste[movie % len(GENRES)] + rng.normal()), 1, 5)
                at = start + pd.Timedelta(minutes=2 * k)
                rows.append((f"user{user}", ids[movie], int(stars), int(at.timestamp())))
    ratings = pd.DataFrame(rows, columns=["userId", "movieId", "rating", "timestamp"])
    ratings = ratings.drop_duplicates(["userId", "movieId"])
    catalog = pd.DataFrame(
        {
            "movieId": ids,
            "title": [f"Film {i} (19{50 + i % 50})" for i in range(movies)],
            "genres": [GENRES[i % len(GENRES)] for i in range(movies)],
        }
    )
    folder.mkdir(parents=True, exist_ok=True)
    ratings.to_csv(folder / "ratings.csv", index=False)
    catalog.to_csv(folder / "movies.csv", index=False)
    quiet_days = [first + pd.Timedelta(days=d) for d in sorted(quiet)]
    return RatingsLog(folder / "ratings.csv", folder / "movies.csv", first, quiet_days)
