"""The GX gate before feature tables are written: exact columns, unique keys, sane values."""

from __future__ import annotations

import re
from datetime import date

import pyarrow as pa
import pytest

from engageflow.lake import day_bounds
from engageflow.settings import Settings
from feature_repo.tables import ITEM_PROFILE, USER_ENGAGEMENT, table_schemas
from feature_repo.validate import FeatureValidationError, validate_features

DAY = date(2026, 1, 3)


def _table(
    settings: Settings, keys: list, stamp=None, view: str = USER_ENGAGEMENT, **values
) -> pa.Table:
    schema = table_schemas(settings.feast)[view]
    columns = {
        schema.names[0]: keys,
        "event_timestamp": [stamp or day_bounds(DAY)[1]] * len(keys),
        **{
            field.name: [values.get(field.name, "x" if pa.types.is_string(field.type) else 0)]
            * len(keys)
            for field in list(schema)[2:]
        },
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
        (
            {"view": ITEM_PROFILE, "created_at_epoch_s": None},
            "expect_column_values_to_not_be_null(created_at_epoch_s)",
        ),
    ],
)
def test_broken_tables_are_refused_naming_view_and_rule(
    settings: Settings, change: dict, problem: str
) -> None:
    keys = change.pop("keys", ["u1", "u2"])
    view = change.get("view", USER_ENGAGEMENT)
    table = _table(settings, keys, **change)
    with pytest.raises(FeatureValidationError, match=re.escape(problem)) as caught:
        validate_features({view: table}, settings, DAY)
    assert view in str(caught.value) and "nothing was written" in str(caught.value)
    report = settings.root / "quarantine" / "features" / view / "date=2026-01-03"
    assert (report / "report.json").is_file()
    assert (report / "validation" / f"{view}.html").is_file()


def test_an_item_created_before_1970_passes(settings: Settings) -> None:
    made_1955 = -(15 * 365 + 4) * 86_400  # a film in a public catalog
    table = _table(settings, ["i1", "i2"], view=ITEM_PROFILE, created_at_epoch_s=made_1955)
    validate_features({ITEM_PROFILE: table}, settings, DAY)


def test_extra_columns_are_refused(settings: Settings) -> None:
    table = _table(settings, ["u1"]).append_column("surprise", pa.array([1.0]))
    with pytest.raises(FeatureValidationError, match="expect_table_columns_to_match_set"):
        validate_features({USER_ENGAGEMENT: table}, settings, DAY)
