"""Users' observable static attributes, drawn to lean with their latent tastes.

An age band leans towards the typical age of the topics a user likes, some users declare their
favourite topics, and a region carries no taste (as most regions would not). The draws come
from streams of their own, so adding attributes changed no event the simulator makes; a user's
attributes are the same on every day (a prefix-stable draw in user order).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from engageflow import schema
from engageflow.simulator.world import World, stream

REGIONS = 8
DECLARING_SHARE = 0.6  # users who filled in their interests at signup
FAVOURITE = 0.25  # a topic this big a share of a user's taste is one they would declare
AGE_SPREAD = 1.0  # +-bands of noise around the tastes' typical band


def user_table(world: World, seed: int) -> pa.Table:
    """schema.USERS for every user who joined by the world's day."""
    users = world.users
    n, topics = users.preference.shape
    bands = len(schema.AGE_BANDS)
    typical = stream(seed, "topic ages").uniform(1, bands, size=topics)
    noise = stream(seed, "user attributes").random((n, 3))
    leaning = users.preference @ typical + (noise[:, 0] - 0.5) * 2 * AGE_SPREAD
    favourites = [
        np.flatnonzero(row >= FAVOURITE).tolist() or [int(row.argmax())] for row in users.preference
    ]
    declares = noise[:, 2] < DECLARING_SHARE
    table = pa.table(
        {
            "user_id": users.ids,
            "signup_at": pa.array(users.joined.astype("datetime64[D]"), type=schema.UTC_TS),
            "age_band": np.clip(np.rint(leaning), 1, bands).astype(np.int8),
            "region": (noise[:, 1] * REGIONS).astype(np.int16),
            "declared_topics": pa.array(
                [f if d else None for f, d in zip(favourites, declares, strict=True)],
                type=pa.list_(pa.int16()),
            ),
        }
    )
    return schema.conform(table, schema.USERS, "simulated users")
