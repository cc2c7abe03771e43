"""The gate between computing features and writing them: nothing bad reaches the offline store.

`validate_features` is the call point for the Great Expectations feature suites
(expectations/); until they land it checks what every table must hold.
"""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pyarrow.compute as pc

from engageflow.errors import DataError
from engageflow.lake import day_bounds
from engageflow.settings import Settings
from feature_repo.tables import KEY, TIMESTAMP


class FeatureValidationError(DataError):
    """A computed feature table breaks a rule; nothing of the day was written."""


def validate_features(tables: dict[str, pa.Table], settings: Settings, day: date) -> None:
    """Raise FeatureValidationError unless every table has unique, non-null keys stamped at D+1."""
    end = day_bounds(day)[1]
    problems = []
    for view, table in tables.items():
        keys = table.column(KEY[view])
        if keys.null_count:
            problems.append(f"{view}: {keys.null_count} null {KEY[view]}")
        if pc.count_distinct(keys).as_py() != table.num_rows - keys.null_count:
            problems.append(f"{view}: duplicate {KEY[view]} values")
        stamps = pc.unique(table.column(TIMESTAMP)).to_pylist()
        if any(stamp != end for stamp in stamps):
            problems.append(f"{view}: {TIMESTAMP} must all be {end}, found {stamps[:3]}")
    if problems:
        raise FeatureValidationError(
            f"features for {day} failed validation, nothing was written: {'; '.join(problems)}. "
            "Fix the transform or the lake data, then rerun the day."
        )
