"""The quarantine area `quarantine/<dataset>/date=D/`: what failed, with the evidence to fix it.

Layout: `report.json` (counts, files, failed checks), `rows.parquet` (quarantined rows with their
original values as text and the checks each failed), `files/` (whole landing files of a failed
batch, byte for byte), `validation/<name>.json|.html` (GX result and its Data Docs page).
The directory is replaced atomically, so a rerun of the day replaces its quarantine.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa

from engageflow import lake
from expectations.gate import Validation, render_html

ROWS_FILE = "rows.parquet"
REPORT_FILE = "report.json"


def quarantine_dir(root: Path, dataset: str, day: date) -> Path:
    return lake.partition_dir(root, "quarantine", dataset, day)


def write_quarantine(
    root: Path,
    dataset: str,
    day: date,
    report: Mapping[str, Any],
    validations: Sequence[Validation],
    rows: pa.Table | None = None,
    files: Sequence[Path] = (),
) -> Path:
    """Replace the day's quarantine with this report, its evidence, rows and copied files."""
    final = quarantine_dir(root, dataset, day)
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = final.with_name(f".{final.name}.{uuid.uuid4().hex}.tmp")
    try:
        _fill(staging, report, validations, rows, files)
        old = final.with_name(f".{final.name}.{uuid.uuid4().hex}.old")
        if final.exists():
            os.replace(final, old)
        os.replace(staging, final)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


def _fill(
    folder: Path,
    report: Mapping[str, Any],
    validations: Sequence[Validation],
    rows: pa.Table | None,
    files: Sequence[Path],
) -> None:
    (folder / "validation").mkdir(parents=True)
    for validation in validations:
        (folder / "validation" / f"{validation.name}.json").write_text(validation.to_json())
        (folder / "validation" / f"{validation.name}.html").write_text(render_html(validation))
    if rows is not None and rows.num_rows:
        lake.write_atomic(rows, folder / ROWS_FILE)
    if files:
        (folder / "files").mkdir()
        for path in files:
            shutil.copy2(path, folder / "files" / path.name)  # a copy: landing stays untouched
    (folder / REPORT_FILE).write_text(json.dumps(report, indent=2, default=str) + "\n")


def clear_quarantine(root: Path, dataset: str, day: date) -> None:
    """Remove a day's stale quarantine after a clean rerun (it is derived from landing files)."""
    shutil.rmtree(quarantine_dir(root, dataset, day), ignore_errors=True)
