"""Acting on a day's A/B readout: promote the challenger, roll it back, or keep testing.

Alias moves go through engageflow.aliases.move_alias, so each one is journaled with its reason.
A readout acts only on the challenger that served the day's canary: a rerun after the move,
or a readout about a version that is no longer the challenger, changes nothing.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from engageflow.aliases import CHALLENGER, CHAMPION, move_alias
from engageflow.errors import DataError
from engageflow.registry import alias_version
from engageflow.settings import Settings
from monitoring.stored import monitoring_dir

ACTOR = "monitor_drift"


def read_readout(settings: Settings, day: date) -> dict[str, Any]:
    """The readout monitor_day wrote for `day` (ab.json)."""
    path = monitoring_dir(settings, day) / "ab.json"
    if not path.is_file():
        raise DataError(f"no A/B readout for {day} at {path}: monitor the day first")
    return json.loads(path.read_text())


def act_on_readout(settings: Settings, day: date) -> dict[str, Any]:
    """Apply the day's decision: `promote` makes the challenger champion, `roll_back` and
    `keep_champion` (the horizon passed) remove the challenger alias, `keep_testing` does
    nothing. Returns what was done and why."""
    readout = read_readout(settings, day)
    decision = readout["decision"]
    challenger = alias_version(settings, CHALLENGER)
    served = readout.get("versions", {}).get("canary", [])
    done = {"day": day.isoformat(), "decision": decision, "challenger": challenger}
    if decision == "keep_testing":
        return {**done, "action": "none", "why": readout["reason"]}
    if challenger is None:
        return {**done, "action": "none", "why": "no challenger (already acted on?)"}
    if str(challenger) not in served:
        why = f"the canary of {day} served {served or 'no version'}, not v{challenger}"
        return {**done, "action": "none", "why": why}
    reason = f"A/B readout {day}: {readout['reason']}"
    if decision == "promote":
        move_alias(settings, CHAMPION, challenger, "ab", reason, ACTOR)
        move_alias(settings, CHALLENGER, None, "retire", f"v{challenger} became champion", ACTOR)
        return {**done, "action": "promoted", "why": reason}
    move_alias(settings, CHALLENGER, None, "ab", reason, ACTOR)
    action = "kept_champion" if decision == "keep_champion" else "rolled_back"
    return {**done, "action": action, "why": reason}
