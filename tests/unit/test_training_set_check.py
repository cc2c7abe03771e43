"""The training set's GX check: the column set on the header, the rows on the meta columns."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from engageflow.errors import DataError
from training.columns import META_COLUMNS
from training.dataset import check_training_set

DAYS = [date(2026, 1, 2)]
FEATURES = ["user_ctr_7d", "item_age_hours"]


def _frame(rows: int = 50) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "request_id": [f"r{i // 5}" for i in range(rows)],
            "user_id": [f"u{i // 5}" for i in range(rows)],
            "item_id": [f"i{i % 5}" for i in range(rows)],
            "ts": pd.Timestamp("2026-01-02", tz="UTC"),
            "position": np.arange(rows) % 5,
            "propensity": np.full(rows, 0.2),
            "policy": "random",
            "good": rng.random(rows) < 0.3,
            "bad": rng.random(rows) < 0.1,
        }
    )
    return frame.assign(**{f: rng.random(rows).astype(np.float32) for f in FEATURES})


def test_a_sound_frame_passes() -> None:
    check_training_set(_frame(), FEATURES, DAYS)


@pytest.mark.parametrize(
    ("break_it", "names"),
    [
        (lambda f: f.drop(columns=["item_age_hours"]), "expect_table_columns_to_match_set"),
        (lambda f: f.drop(columns=["policy"]), "expect_table_columns_to_match_set"),
        (lambda f: f.assign(request_id=f["request_id"].where(f.index != 3)), "(request_id)"),
        (lambda f: f.assign(item_id="i0"), "expect_compound_columns_to_be_unique"),
        (lambda f: f.assign(propensity=0.0), "(propensity)"),
        (lambda f: f.assign(position=-1), "(position)"),
        (lambda f: f.iloc[:0], "expect_table_row_count_to_be_between"),
    ],
)
def test_a_broken_frame_fails_naming_the_check(break_it, names: str) -> None:
    with pytest.raises(DataError, match=f"failed its checks: .*{pd.io.common.re.escape(names)}"):
        check_training_set(break_it(_frame()), FEATURES, DAYS)
    assert set(META_COLUMNS) <= set(_frame().columns)


def test_numbers_are_widened_without_changing_them() -> None:
    from expectations.compat import with_wide_numbers

    frame = pd.DataFrame(
        {
            "position": np.array([0, -3, 32767], dtype=np.int16),
            "count": np.array([1, 2, 3], dtype=np.uint8),
            "score": np.array([0.1, 0.2, np.nan], dtype=np.float32),
            "big": np.array([2**63, 1, 2], dtype=np.uint64),
            "id": ["a", "b", "c"],
        }
    )
    wide = with_wide_numbers(frame)
    assert wide.dtypes.astype(str).to_dict() == {
        "position": "int64",
        "count": "int64",
        "score": "float64",
        "big": "uint64",
        "id": "object",
    }
    pd.testing.assert_frame_equal(wide.astype(frame.dtypes.to_dict()), frame)
