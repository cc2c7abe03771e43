"""Hand-made impression frames with a known law, for training and gate tests (no simulator)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engageflow.settings import TrainingConfig
from training.columns import GROUP
from training.groups import group_codes

FEATURES = ["signal", "noise"]


def impressions(requests: int, per_request: int, seed: int) -> pd.DataFrame:
    """Good engagement follows `signal` (logit -3 + 2 * signal); `noise` carries nothing."""
    rng = np.random.default_rng(seed)
    n = requests * per_request
    signal, noise = rng.normal(size=n), rng.normal(size=n)
    p_good = 1 / (1 + np.exp(-(-3 + 2 * signal)))
    frame = pd.DataFrame(
        {
            "request_id": np.repeat([f"r{seed}-{i}" for i in range(requests)], per_request),
            "user_id": np.repeat([f"u{i % 50}" for i in range(requests)], per_request),
            "item_id": [f"i{v}" for v in rng.integers(0, 200, n)],
            "ts": pd.Timestamp("2026-01-01", tz="UTC"),
            "position": np.tile(np.arange(per_request), requests),
            "propensity": 0.5,
            "policy": "explore",
            "good": rng.random(n) < p_good,
            "bad": rng.random(n) < 0.05,
            "signal": signal,
            "noise": noise,
            "p_good": p_good,
        }
    )
    return frame.assign(**{GROUP: group_codes(frame, "request", TrainingConfig())})
