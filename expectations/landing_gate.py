"""The gate between the landing zone and the lake: every landed row is accepted or quarantined.

Row-level failures are quarantined and the rest passes on; a batch-level failure (unreadable
file, columns off schema, volume, distribution) quarantines the whole day's files and raises.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from engageflow import schema
from engageflow.landing import CONVERSION_ERRORS, LandedFile, read_landed, take_as_text, typed
from expectations.gate import QualityGateFailed, Validation, validate
from expectations.quarantine import clear_quarantine, write_quarantine

# Checks on the accepted rows as a whole (e.g. the day's CTR); each returns a batch verdict.
BatchCheck = Callable[[pa.Table], Validation]


@dataclass(frozen=True)
class Gated:
    accepted: pa.Table  # conformed to the contract, ready for the lake
    rows_in: int
    rows_quarantined: int
    quarantine: Path | None


def gate_landed(
    root: Path,
    dataset: str,
    day: date,
    files: Sequence[Path],
    contract: pa.Schema,
    parameters: Mapping[str, Any],  # a callable value is computed from the batch's frame
    batch_checks: Sequence[BatchCheck] = (),
    max_rejected_share: float = 1.0,
) -> Gated:
    """Validate the day's landing files with the suite named `dataset`; quarantine what fails.
    More than `max_rejected_share` of the rows failing row checks fails the whole batch."""
    landed = [read_landed(path) for path in files]
    problems = {f.name: f.error for f in landed if f.error}
    file_checks = []
    for readable in (f for f in landed if f.table is not None):
        check = _check_columns(readable, contract)
        if not check.passed:
            problems[readable.name] = "; ".join(check.batch_failures)
            file_checks.append(check)
    good = [f for f in landed if f.table is not None and f.name not in problems]
    table = _typed_rows(good, contract)
    main = validate_rows(table, dataset, parameters)
    rejected = np.zeros(table.num_rows, bool)
    rejected[list(main.row_failures)] = True
    accepted = table.filter(pa.array(~rejected)).drop_columns([CONVERSION_ERRORS])
    accepted = schema.conform(accepted, contract, f"accepted {dataset}")
    rows_in = sum(f.rows for f in landed)
    # An empty landing is a valid, empty day: no rate of it to check.
    later = [check(accepted) for check in batch_checks] if rows_in else []
    batch_failures = [f for v in (main, *later) for f in v.batch_failures]
    if too_many := _mostly_rejected(main.row_failures, table.num_rows, max_rejected_share):
        batch_failures.append(too_many)
    validations = [main, *file_checks, *later]
    report = {
        "dataset": dataset,
        "day": day.isoformat(),
        "rows_in": rows_in,
        "files": [
            {"name": f.name, "rows": f.rows, "problem": problems.get(f.name)} for f in landed
        ],
        "batch_failures": batch_failures,
        "row_failures": _counts(main.row_failures),
    }
    if problems or batch_failures:
        report |= {"status": "failed", "rows_accepted": 0, "rows_quarantined": report["rows_in"]}
        where = write_quarantine(root, dataset, day, report, validations, files=files)
        raise QualityGateFailed(_message(dataset, day, problems, batch_failures, where), report)
    quarantined = int(rejected.sum())
    report |= {"status": "passed", "rows_accepted": accepted.num_rows}
    report["rows_quarantined"] = quarantined
    if not quarantined:
        clear_quarantine(root, dataset, day)
        return Gated(accepted, report["rows_in"], 0, None)
    rows = _quarantined_rows(good, main.row_failures, contract)
    bad = pa.array(sorted(main.row_failures), pa.int64())
    rows = rows.append_column(CONVERSION_ERRORS, table[CONVERSION_ERRORS].take(bad))
    where = write_quarantine(root, dataset, day, report, validations, rows=rows)
    return Gated(accepted, report["rows_in"], quarantined, where)


def validate_rows(table: pa.Table, suite: str, parameters: Mapping[str, Any]) -> Validation:
    """The suite over rows in the contract's types (`landing.typed`): the one row check that
    the daily gate and the collector's batches share. A callable parameter gets the frame."""
    frame = table.to_pandas()
    values = {k: v(frame) if callable(v) else v for k, v in parameters.items()}
    return validate(frame, suite, values)


def _typed_rows(good: Sequence[LandedFile], contract: pa.Schema) -> pa.Table:
    """The readable files' rows in the contract's types, one after the other (positional)."""
    if not good:
        return typed(contract.empty_table(), contract)
    return pa.concat_tables([typed(f.table, contract) for f in good])


def _check_columns(landed: LandedFile, contract: pa.Schema) -> Validation:
    """The landing_file suite on the file's header: exactly the contract's columns."""
    header = pd.DataFrame(columns=landed.table.column_names)
    missing = sorted(set(contract.names) - set(header.columns))
    extra = sorted(set(header.columns) - set(contract.names))
    checked = validate(
        header, "landing_file", {"columns": contract.names}, name=f"landing_file.{landed.name}"
    )
    if not checked.passed:
        checked.batch_failures = [
            f"columns do not match schema v{schema.SCHEMA_VERSION}: "
            f"missing {missing or 'none'}, unexpected {extra or 'none'}"
        ]
    return checked


def _mostly_rejected(row_failures: Mapping[int, list[str]], rows: int, bound: float) -> str | None:
    """A batch failure when more than `bound` of its rows fail row checks: a systematic fault of
    the export or the mapping (a column left empty), not some bad rows. It names the commonest
    rules."""
    if not rows or len(row_failures) <= bound * rows:
        return None
    common = sorted(_counts(row_failures).items(), key=lambda kv: -kv[1])[:3]
    rules = ", ".join(f"{rule} on {count:,} rows" for rule, count in common)
    return (
        f"most rows failed: {len(row_failures):,} of {rows:,} ({len(row_failures) / rows:.0%}) "
        f"broke a row check, above quality.max_rejected_share {bound:.0%}; commonest: {rules}"
    )


def _counts(row_failures: Mapping[int, list[str]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for names in row_failures.values():
        for name in names:
            counts[name] = counts.get(name, 0) + 1
    return dict(sorted(counts.items()))


def _quarantined_rows(
    good: Sequence[LandedFile], failures: Mapping[int, list[str]], contract: pa.Schema
) -> pa.Table:
    """Each failed row with its original values as text, its file, row number and failed checks."""
    parts, offset = [], 0
    for landed in good:
        local = [i - offset for i in sorted(failures) if offset <= i < offset + landed.rows]
        if local:
            part = take_as_text(landed.table, local, contract.names)
            part = part.append_column("source_file", pa.array([landed.name] * len(local)))
            part = part.append_column("row_in_file", pa.array(local, pa.int64()))
            checks = ["; ".join(failures[i + offset]) for i in local]
            parts.append(part.append_column("failed_expectations", pa.array(checks)))
        offset += landed.rows
    return pa.concat_tables(parts)


def _message(
    dataset: str, day: date, problems: Mapping[str, str], failures: Sequence[str], where: Path
) -> str:
    lines = [f"{dataset} for {day} failed its data-quality gate; nothing was written to the lake."]
    lines += [f"  file {name}: {problem}" for name, problem in problems.items()]
    lines += [f"  check {failure}" for failure in failures]
    lines.append(
        f"Copies of the day's landing files, report.json and the validation results (JSON and "
        f"Data Docs HTML) are in {where}. Fix or replace the bad landing files (they were not "
        "modified), then rerun the day."
    )
    return "\n".join(lines)
