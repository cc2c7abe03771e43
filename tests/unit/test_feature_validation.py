"""The GX gate before feature tables are written: exact columns, unique keys, sane values."""

from __future__ import annotations

import re
from datetime import date

import pyarrow as pa
import pytest

from engageflow.lake import day_bounds
from engageflow.settings import Settings
from feature_repo.tables import USER_ENGAGEMENT, table_schemas
from feature_repo.validate import FeatureValidationError, validate_features

DAY = date(2026, 1, 3)


def _table(settings: Settings, keys: list, stamp=None, **values) -> pa.Table:
    schema = table_schemas(settings.feast)[USER_ENGAGEMENT]
    columns = {
        "user_id": keys,
        "event_timestamp": [stamp or day_bounds(DAY)[1]] * len(keys),
        **{name: [values.get(name, 0)] * len(keys) for name in schema.names[2:]},
    }
    return pa.table(columns, schema=schema)


def test_a_clean_table_passes(settings: Settings) -> None:
    validate_features({USER_ENGAGEMENT: _table(settings, ["u1", "u2"])}, settings, DAY)
    assert not (settings.root / "quarantine").exists()


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"keys": ["u1", "u1"]}, "expect_column_values_to_be_unique(user_id)"),
        ({"keys": ["u1", None]}, "expect_column_values_to_not_be_null(user_id)"),
        ({"stamp": day_bounds(DAY)[0]}, "expect_column_values_to_be_between(event_timestamp)"),
        ({"user_ctr_7d": 1.5}, "expect_column_values_to_be_between(user_ctr_7d)"),
        ({"user_clicks_1d": -1}, "expect_column_values_to_be_between(user_clicks_1d)"),
    ],
)
def test_broken_tables_are_refused_naming_view_and_rule(
    settings: Settings, change: dict, problem: str
) -> None:
    keys = change.pop("keys", ["u1", "u2"])
    table = _table(settings, keys, **change)
    with pytest.raises(FeatureValidationError, match=re.escape(problem)) as caught:
        validate_features({USER_ENGAGEMENT: table}, settings, DAY)
    assert USER_ENGAGEMENT in str(caught.value) and "nothing was written" in str(caught.value)
    report = settings.root / "quarantine" / "features" / USER_ENGAGEMENT / "date=2026-01-03"
    assert (report / "report.json").is_file()
    assert (report / "validation" / f"{USER_ENGAGEMENT}.html").is_file()


def test_extra_columns_are_refused(settings: Settings) -> None:
    table = _table(settings, ["u1"]).append_column("surprise", pa.array([1.0]))
    with pytest.raises(FeatureValidationError, match="expect_table_columns_to_match_set"):
        validate_features({USER_ENGAGEMENT: table}, settings, DAY)
