import math

import pandas as pd
import pytest

from engageflow.errors import DataError
from training.frames import catalog_features, history_features


def test_history_features_count_only_the_past() -> None:
    past = pd.DataFrame(
        {
            "user_id": ["u", "u", "u", "v"],
            "topic": [1, 1, 2, 1],
            "clicked": [True, True, True, False],
            "good": [True, False, True, False],
        }
    )
    today = pd.DataFrame({"user_id": ["u", "u", "w"], "topic": [1, 3, 1]})
    out = history_features(today, past)
    assert out["user_clicks_history"].tolist() == [3, 3, 0]
    assert out["user_topic_click_share"].iloc[:2].tolist() == pytest.approx([2 / 3, 0.0])
    assert out["user_topic_good_share"].iloc[:2].tolist() == pytest.approx([0.5, 0.0])
    assert math.isnan(out["user_topic_click_share"].iloc[2])  # no history: unknown, not zero


def test_an_item_missing_from_the_catalog_is_named() -> None:
    shown = pd.DataFrame({"item_id": ["i1"], "ts": [pd.Timestamp("2026-01-02", tz="UTC")]})
    items = pd.DataFrame(
        {
            "item_id": ["i2"],
            "created_at": [pd.Timestamp("2026-01-01", tz="UTC")],
            "topic": [1],
            "creator_id": ["c"],
        }
    )
    with pytest.raises(DataError, match="'i1'"):
        catalog_features(shown, items)
