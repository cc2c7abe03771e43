"""Drift-triggered retraining with a cooldown: one drift episode, one retrain.

Each trigger is a small JSON record in <data_dir>/monitoring/triggers/<day>.json (day, reason,
the train_ranker run id), so the history survives restarts and a new Airflow database.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from engageflow.settings import Settings

TRAIN_DAG = "train_ranker"


def triggers_dir(settings: Settings) -> Path:
    return settings.root / "monitoring" / "triggers"


def trigger_history(settings: Settings) -> list[dict[str, Any]]:
    """Every recorded trigger, oldest day first."""
    folder = triggers_dir(settings)
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]


def blocking_trigger(day: date, triggered: list[date], cooldown_days: int) -> date | None:
    """The earlier (or same-day) trigger less than `cooldown_days` away from `day`, if any."""
    near = [t for t in triggered if abs((day - t).days) < cooldown_days]
    return min(near, key=lambda t: abs((day - t).days)) if near else None


def run_id_for(end: str) -> str:
    """The train_ranker run id of a drift trigger: a rerun of the day cannot trigger twice."""
    return f"drift__{end}"


def decide_retrain(
    settings: Settings, verdicts: dict[str, dict[str, Any]]
) -> dict[str, str] | None:
    """The train_ranker conf {"end", "reason"} for the newest day (ISO key) whose verdict is
    drift and that no earlier trigger covers (cooldown); None when nothing should retrain."""
    drifted = sorted((day for day, verdict in verdicts.items() if verdict["drift"]), reverse=True)
    if not drifted:
        return None
    day = date.fromisoformat(drifted[0])
    triggered = [date.fromisoformat(r["day"]) for r in trigger_history(settings)]
    if blocking_trigger(day, triggered, settings.monitoring.cooldown_days) is not None:
        return None
    reason = verdicts[drifted[0]]["reason"]
    return {"end": day.isoformat(), "reason": f"monitor_drift {day}: {reason}"}


def record_trigger(settings: Settings, conf: dict[str, str], run_id: str) -> Path:
    """Keep the trigger (atomically) so later days see it inside the cooldown."""
    folder = triggers_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    record = {
        "day": conf["end"],
        "reason": conf["reason"],
        "dag_id": TRAIN_DAG,
        "run_id": run_id,
        "recorded_at": datetime.now(UTC).isoformat(),
    }
    path = folder / f"{conf['end']}.json"
    with tempfile.NamedTemporaryFile("w", dir=folder, suffix=".tmp", delete=False) as out:
        json.dump(record, out, indent=1)
    os.replace(out.name, path)
    return path
