"""README.md as a user reads it: the architecture picture names every DAG and asset that
exists, and the real-logs walkthrough runs as written."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
from readme import README, blocks, section

from dags.support import runs

ARCHITECTURE = README.parent / "docs" / "architecture.md"
DAY = "2026-03-01"


def _asset_names() -> set[str]:
    """The asset names dags/support/runs.py defines (its `engageflow.*` string constants)."""
    return {
        value
        for name, value in vars(runs).items()
        if name.isupper() and isinstance(value, str) and value.startswith("engageflow.")
    }


def test_architecture_picture_names_every_dag_and_asset(dagbag) -> None:
    (diagram,) = blocks(section("Architecture"), "mermaid")
    assert diagram.startswith("flowchart")
    names = {*dagbag.dag_ids, *_asset_names()}
    assert len(dagbag.dag_ids) >= 4 and len(_asset_names()) >= 2
    assert not [n for n in sorted(names) if n not in diagram], "README's picture is stale"
    long_form = ARCHITECTURE.read_text()
    assert not [n for n in sorted(names) if n not in long_form], "docs/architecture.md is stale"


def test_real_logs_walkthrough_runs_as_written(tmp_path: Path) -> None:
    text = section("How to point it at real logs")
    logs, catalog = blocks(text, "csv")
    script = blocks(text, "bash")[0]
    (tmp_path / "logs.csv").write_text(logs)
    (tmp_path / "catalog.csv").write_text(catalog)
    # The README's paths are relative to a checkout: `.venv/bin/...` and `./.engageflow`.
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parent.parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENGAGEFLOW_")}
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    data = tmp_path / ".engageflow"
    events = pq.read_table(data / "lake" / "events" / f"date={DAY}").to_pandas()
    assert sorted(events["event_type"]) == ["click", "hide", "impression", "impression"]
    assert events["user_id"].str.startswith("p_").all() and events["user_id"].nunique() == 2
    assert not (data / "quarantine" / "events" / f"date={DAY}").exists()
    # build_features wrote the day's tables from the imported events.
    users = pq.read_table(data / "features" / "user_engagement" / f"date={DAY}").to_pandas()
    assert set(users["user_id"]) == set(events["user_id"])
    # The key was made on first use, private to its owner; no raw identifier was stored.
    key = data / "secrets" / "pseudonym.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    for path in data.rglob("*"):
        if path.is_file() and path != key:
            blob = path.read_bytes()
            assert b"alice@example.com" not in blob and b"bob-1977" not in blob, path
