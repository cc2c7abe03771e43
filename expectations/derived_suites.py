"""GX suites for tables whose columns follow settings: the feature tables and the training set.

Their columns depend on the configured windows and the model's FeatureService, so the suites are
built here from the table schemas (reviewed code, like the JSON suites) rather than kept as JSON
that would drift from the columns. The rules follow the column names' meaning.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

Spec = dict[str, Any]


def _expect(kind: str, **kwargs: Any) -> Spec:
    return {"type": kind, "kwargs": kwargs}


def _column_rules(field: pa.Field) -> list[Spec]:
    name, kind = field.name, field.type
    if pa.types.is_list(kind) or name.endswith("_epoch_s"):
        # A point in time may lie before 1970 (a film in a catalog): not a count, no bound.
        return [_expect("expect_column_values_to_not_be_null", column=name)]
    if "rate" in name or name.split("_")[-2:-1] == ["ctr"] or name.startswith(("ctr", "p_")):
        return [
            _expect("expect_column_values_to_be_between", column=name, min_value=0, max_value=1)
        ]
    if pa.types.is_integer(kind) or "dwell" in name or "days_since" in name:
        return [_expect("expect_column_values_to_be_between", column=name, min_value=0)]
    return []


def feature_table_suite(
    view: str, schema: pa.Schema, key: str, timestamp: str, min_rows: int = 1
) -> Spec:
    """One feature view's table: exact columns, one row per key stamped at the window end."""
    expectations = [
        _expect("expect_table_columns_to_match_set", column_set=schema.names, exact_match=True),
        _expect("expect_table_row_count_to_be_between", min_value=min_rows),
        _expect("expect_column_values_to_not_be_null", column=key),
        _expect("expect_column_values_to_be_unique", column=key),
        _expect(
            "expect_column_values_to_be_between",
            column=timestamp,
            min_value={"$PARAMETER": "window_end"},
            max_value={"$PARAMETER": "window_end"},
        ),
    ]
    for field in schema:
        if field.name not in (key, timestamp):
            expectations += _column_rules(field)
    return {"name": f"features.{view}", "expectations": expectations}


def training_set_suite(meta: list[str], features: list[str]) -> Spec:
    """A split of the training set: its columns, labelled rows, sane logging fields."""
    required = ["request_id", "user_id", "item_id", "ts", "good", "bad"]
    return {
        "name": "training_set",
        "expectations": [
            _expect(
                "expect_table_columns_to_match_set",
                column_set=[*meta, *features],
                exact_match=False,
            ),
            _expect("expect_table_row_count_to_be_between", min_value=1),
            *(_expect("expect_column_values_to_not_be_null", column=c) for c in required),
            _expect("expect_compound_columns_to_be_unique", column_list=["request_id", "item_id"]),
            _expect(
                "expect_column_values_to_be_between",
                column="propensity",
                min_value=0,
                max_value=1,
                strict_min=True,
            ),
            _expect("expect_column_values_to_be_between", column="position", min_value=0),
        ],
    }
