"""The `engageflow` command as users run it, in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ENGAGEFLOW = str(Path(sys.executable).with_name("engageflow"))
SMALL = {"ENGAGEFLOW_SIMULATION__REQUESTS_PER_DAY": "500", "ENGAGEFLOW_SIMULATION__USERS": "800"}


def _cli(data_dir: Path, *args: str, extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **SMALL, **(extra or {}), "ENGAGEFLOW_DATA_DIR": str(data_dir)}
    return subprocess.run([ENGAGEFLOW, *args], env=env, capture_output=True, text=True)


def test_simulate_is_byte_identical_for_the_same_seed(tmp_path: Path) -> None:
    runs = [tmp_path / "a", tmp_path / "b"]
    for data_dir in runs:
        done = _cli(data_dir, "simulate", "--days", "3", "--seed", "7")
        assert done.returncode == 0, done.stderr
    files = sorted(p.relative_to(runs[0]) for p in (runs[0] / "landing").rglob("*.parquet"))
    assert len(files) == 9  # events, catalog and users for each of the 3 days
    for rel in files:
        assert (runs[0] / rel).read_bytes() == (runs[1] / rel).read_bytes(), rel
    other = tmp_path / "c"
    assert _cli(other, "simulate", "--days", "1", "--seed", "8").returncode == 0
    rel = files[0]
    assert (other / rel).read_bytes() != (runs[0] / rel).read_bytes()


def test_with_retention_on_days_run_in_order(tmp_path: Path) -> None:
    lasting = {"ENGAGEFLOW_SIMULATION__RETENTION__ENABLED": "true"}
    done = _cli(tmp_path, "simulate", "--days", "1", "--start", "2026-01-02", extra=lasting)
    assert done.returncode == 2
    assert "simulate the days in order from 2026-01-01" in " ".join(done.stdout.split())
    done = _cli(tmp_path, "simulate", "--days", "2", extra=lasting)
    assert done.returncode == 0, done.stderr
    assert len(list((tmp_path / "truth" / "retention").rglob("*.parquet"))) == 2


def test_ingest_and_summary_without_airflow(tmp_path: Path) -> None:
    assert _cli(tmp_path, "simulate", "--days", "2").returncode == 0
    done = _cli(tmp_path, "ingest", "--day", "2026-01-01", "--through", "2026-01-02")
    assert done.returncode == 0, done.stderr
    shown = _cli(tmp_path, "summary")
    assert shown.returncode == 0, shown.stderr
    assert "2026-01-01" in shown.stdout and "2026-01-02" in shown.stdout


def test_bad_import_exits_2_with_the_reason(tmp_path: Path) -> None:
    source = tmp_path / "log.csv"
    source.write_text("user,item,ts,action\nu1,i1,not-a-time,click\n")
    done = _cli(
        tmp_path,
        "import-events",
        str(source),
        "--user",
        "user",
        "--item",
        "item",
        "--timestamp",
        "ts",
        "--event",
        "action",
    )
    assert done.returncode == 2
    assert "row 2" in done.stdout and "'ts'" in done.stdout
    assert not (tmp_path / "landing").exists()


def test_bad_day_is_a_usage_error(tmp_path: Path) -> None:
    done = _cli(tmp_path, "ingest", "--day", "yesterday")
    assert done.returncode == 2
    assert "not a date" in done.stderr


def test_model_train_promote_rollback_and_history(tmp_path: Path) -> None:
    bigger = {
        "ENGAGEFLOW_SIMULATION__REQUESTS_PER_DAY": "2000",
        "ENGAGEFLOW_TRAINING__TRAIN_DAYS": "3",
    }
    assert _cli(tmp_path, "simulate", "--days", "5", extra=bigger).returncode == 0
    early = _cli(tmp_path, "model", "train", extra=bigger)
    assert early.returncode == 2 and "lake" in early.stdout  # nothing ingested yet
    ingested = _cli(tmp_path, "backfill", "--day", "2026-01-01", "--through", "2026-01-05")
    assert ingested.returncode == 0, ingested.stderr
    trained = _cli(tmp_path, "model", "train", extra=bigger)
    assert trained.returncode == 0, trained.stderr
    assert "registered version 1, now @champion" in trained.stdout  # the first model
    assert "passed: position_auc" in trained.stdout
    refused = _cli(tmp_path, "model", "rollback", "--reason", "no earlier champion")
    assert refused.returncode == 2 and "nothing to roll back to" in refused.stdout
    missing = _cli(tmp_path, "model", "promote", "7", "--reason", "typo")
    assert missing.returncode == 2 and "cannot promote version 7" in missing.stdout
    done = _cli(tmp_path, "model", "promote", "1", "--reason", "pin", "--actor", "alice")
    assert done.returncode == 0, done.stderr
    shown = _cli(tmp_path, "model", "history", "--alias", "champion")
    assert shown.returncode == 0, shown.stderr
    assert "gate" in shown.stdout and "manual" in shown.stdout
    assert "alice" in shown.stdout and "pin" in shown.stdout
