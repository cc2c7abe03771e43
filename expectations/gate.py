"""Run a reviewed GX suite over a DataFrame and sort its failures into rows and the whole batch.

Row-level failures (column map expectations: a null, a negative dwell, an unknown item) name the
rows to quarantine; everything else (volume, columns, aggregates, errors) condemns the batch.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from engageflow.errors import DataError

SUITES_DIR = Path(__file__).resolve().parent / "suites"


class QualityGateFailed(DataError):
    """A batch failed its data-quality checks; the message names them and the quarantine."""

    def __init__(self, message: str, report: Mapping[str, Any]) -> None:
        super().__init__(message)
        self.report = dict(report)


@dataclass
class Validation:
    name: str  # the suite's name, or a more specific one (e.g. per landing file)
    result: Any  # great_expectations ExpectationSuiteValidationResult
    row_failures: dict[int, list[str]] = field(default_factory=dict)
    batch_failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.row_failures and not self.batch_failures

    def to_json(self) -> str:
        return json.dumps(self.result.to_json_dict(), indent=1, default=str)


@cache
def load_suite(name: str):  # -> ExpectationSuite (GX is imported lazily: it is slow to import)
    """The suite `expectations/suites/<name>.json`, exactly as reviewed."""
    from great_expectations.core.expectation_suite import ExpectationSuite

    return ExpectationSuite(**json.loads((SUITES_DIR / f"{name}.json").read_text()))


def _suite(spec: Mapping[str, Any]):
    from great_expectations.core.expectation_suite import ExpectationSuite

    return ExpectationSuite(**spec)


@cache
def _dataframes():
    """One ephemeral GX context per process, with a pandas asset for whole-DataFrame batches."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("engageflow").add_dataframe_asset("frame")
    return asset.add_batch_definition_whole_dataframe("whole")


def validate(
    frame: pd.DataFrame,
    suite_name: str | Mapping[str, Any],
    parameters: Mapping[str, Any] | None = None,
    rows_are_records: bool = True,
    name: str | None = None,
) -> Validation:
    """Validate `frame` (positional index) with a suite; dynamic values go in as `parameters`.

    `suite_name` names a reviewed JSON suite, or is a suite spec built in Python (same shape).

    With `rows_are_records=False` (e.g. a one-row summary) every failure condemns the batch.
    """
    from great_expectations.expectations.expectation import (
        ColumnMapExpectation,
        ColumnPairMapExpectation,
        MulticolumnMapExpectation,
    )

    row_level = (ColumnMapExpectation, ColumnPairMapExpectation, MulticolumnMapExpectation)
    batch = _dataframes().get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(
        load_suite(suite_name) if isinstance(suite_name, str) else _suite(suite_name),
        expectation_parameters=dict(parameters or {}),
        result_format={"result_format": "COMPLETE", "return_unexpected_index_query": False},
    )
    out = Validation(name or result.suite_name, result)
    for outcome in result.results:
        if outcome.success:
            continue
        config = outcome.expectation_config
        name = label(config.type, config.kwargs)
        indexes = outcome.result.get("unexpected_index_list")
        raised = (outcome.exception_info or {}).get("raised_exception")
        per_row = rows_are_records and not raised and indexes is not None
        if per_row and isinstance(config.to_domain_obj(), row_level):
            for index in indexes:
                out.row_failures.setdefault(int(index), []).append(name)
            continue
        out.batch_failures.append(f"{name}: {describe(outcome.result, config.kwargs, raised)}")
    return out


def label(kind: str, kwargs: Mapping[str, Any]) -> str:
    """A short, stable name for one expectation: its type and the column(s) it checks."""
    columns = kwargs.get("column") or ",".join(kwargs.get("column_list") or [])
    return f"{kind}({columns})" if columns else kind


def describe(result: Mapping[str, Any], kwargs: Mapping[str, Any], raised: bool) -> str:
    """What was seen against what was expected, in one line for an error message."""
    if raised:
        return "the check itself raised an error (see the validation result)"
    expected = {k: v for k, v in kwargs.items() if k not in ("batch_id", "column", "value_set")}
    seen = result.get("observed_value")
    if seen is None and "partial_unexpected_list" in result:
        seen = f"unexpected values {result['partial_unexpected_list'][:5]}"
    return f"observed {seen}, expected {expected}"


def render_html(validation: Validation) -> str:
    """The validation result as a Data Docs page (GX's own renderer), one self-contained file."""
    from great_expectations.render.renderer import ValidationResultsPageRenderer
    from great_expectations.render.view import DefaultJinjaPageView

    return DefaultJinjaPageView().render(ValidationResultsPageRenderer().render(validation.result))
