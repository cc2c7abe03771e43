"""The gate between computing features and writing them: nothing bad reaches the offline store.

Each table is validated with its GX suite (expectations/derived_suites.py, built from the
table's schema); on failure the validation results (JSON and Data Docs) go to
`quarantine/features/<view>/date=D/` and nothing of the day is written.
"""

from __future__ import annotations

from datetime import date

import pyarrow as pa

from engageflow.errors import DataError
from engageflow.lake import day_bounds
from engageflow.settings import Settings
from feature_repo.tables import KEY, OPTIONAL_VIEWS, TIMESTAMP, table_schemas


class FeatureValidationError(DataError):
    """A computed feature table breaks a rule; nothing of the day was written."""


def validate_features(tables: dict[str, pa.Table], settings: Settings, day: date) -> None:
    """Raise FeatureValidationError unless every table passes its GX suite."""
    from expectations.derived_suites import feature_table_suite
    from expectations.gate import validate
    from expectations.quarantine import clear_quarantine, write_quarantine

    end = day_bounds(day)[1]
    schemas = table_schemas(settings.feast)
    problems = []
    for view, table in tables.items():
        least = 0 if view in OPTIONAL_VIEWS else 1
        suite = feature_table_suite(view, schemas[view], KEY[view], TIMESTAMP, least)
        frame = table.to_pandas()
        checked = validate(frame, suite, {"window_end": end}, rows_are_records=False, name=view)
        dataset = f"features/{view}"
        if checked.passed:
            clear_quarantine(settings.root, dataset, day)
            continue
        report = {"view": view, "day": day.isoformat(), "failures": checked.batch_failures}
        where = write_quarantine(settings.root, dataset, day, report, [checked])
        problems.append(f"{view}: {'; '.join(checked.batch_failures)} (report: {where})")
    if problems:
        raise FeatureValidationError(
            f"features for {day} failed validation, nothing was written: {' | '.join(problems)}. "
            "Fix the transform or the lake data, then rerun the day."
        )
