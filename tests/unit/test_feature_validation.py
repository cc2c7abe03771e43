"""The gate before feature tables are written: unique, non-null keys stamped at the window end."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pytest

from engageflow.lake import day_bounds
from engageflow.schema import UTC_TS
from feature_repo.validate import FeatureValidationError, validate_features

DAY = date(2026, 1, 3)


def _table(keys: list, stamp=None) -> pa.Table:
    stamps = pa.array([stamp or day_bounds(DAY)[1]] * len(keys), UTC_TS)
    return pa.table({"user_id": pa.array(keys, pa.string()), "event_timestamp": stamps})


def test_a_clean_table_passes(settings) -> None:
    validate_features({"user_engagement": _table(["u1", "u2"])}, settings, DAY)


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        (_table(["u1", "u1"]), "duplicate user_id"),
        (_table(["u1", None]), "1 null user_id"),
        (_table(["u1"], day_bounds(DAY)[0]), "event_timestamp must all be"),
    ],
)
def test_broken_tables_are_refused_naming_view_and_rule(settings, table, problem) -> None:
    with pytest.raises(FeatureValidationError, match=problem) as caught:
        validate_features({"user_engagement": table}, settings, DAY)
    assert "user_engagement" in str(caught.value) and "nothing was written" in str(caught.value)
