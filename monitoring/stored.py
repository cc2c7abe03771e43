"""Where a monitored day's files live, and its stored verdict read back (later days and the loop
driver read them)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from engageflow.settings import Settings


def monitoring_dir(settings: Settings, day: date) -> Path:
    return settings.root / "monitoring" / f"date={day.isoformat()}"


def stored_summary(settings: Settings, day: date) -> dict[str, Any] | None:
    """The summary monitor_drift stored for `day`, or None when the day was not monitored."""
    path = monitoring_dir(settings, day) / "summary.json"
    return json.loads(path.read_text()) if path.is_file() else None


def stored_verdict(settings: Settings, day: date) -> dict[str, Any] | None:
    """The verdict monitor_drift stored for `day` ({"drift", "reasons", "reason"}), or None."""
    summary = stored_summary(settings, day)
    return None if summary is None else summary.get("verdict")
