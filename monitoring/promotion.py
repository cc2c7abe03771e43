"""Acting on a day's A/B readout: promote the challenger, roll it back, or keep testing.

Alias moves go through engageflow.aliases.move_alias, so each one is journaled with its reason.
A readout acts only on the challenger that served the day's canary: a rerun after the move,
or a readout about a version that is no longer the challenger, changes nothing.

A promotion keeps the replaced champion on standby (`@standby`) and lets it serve the canary as
the challenger: the same sequential test then holds the new champion against it on live
traffic. If the standby wins, it is champion again at once and a retrain is asked for
(monitoring/triggers.py); if not, by a guardrail or at the horizon, the guard test ends. A new
challenger from the gate takes the canary over and ends the guard test early.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from engageflow.aliases import CHALLENGER, CHAMPION, STANDBY, move_alias
from engageflow.errors import DataError
from engageflow.registry import alias_version
from engageflow.settings import Settings
from monitoring.stored import monitoring_dir

ACTOR = "monitor_drift"
ROLLED_BACK_TO_STANDBY = "rolled_back_to_standby"  # the action that also asks for a retrain


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
    standby = alias_version(settings, STANDBY)
    if decision == "promote" and challenger == standby:
        return {**done, "action": ROLLED_BACK_TO_STANDBY, "why": fall_back(settings, reason)}
    if decision == "promote":
        promote_challenger(settings, challenger, reason)
        return {**done, "action": "promoted", "why": reason}
    move_alias(settings, CHALLENGER, None, "ab", reason, ACTOR)
    if challenger == standby:  # the new champion held its own: the guard test is over
        move_alias(settings, STANDBY, None, "retire", f"v{challenger}'s guard test ended", ACTOR)
    action = "kept_champion" if decision == "keep_champion" else "rolled_back"
    return {**done, "action": action, "why": reason}


def promote_challenger(settings: Settings, challenger: int, reason: str) -> None:
    """The challenger becomes champion; the champion it replaces stands by and serves the
    canary in its place, so the new champion is held against it on live traffic."""
    replaced = alias_version(settings, CHAMPION)
    move_alias(settings, CHAMPION, challenger, "ab", reason, ACTOR)
    if replaced is None:
        move_alias(settings, CHALLENGER, None, "retire", f"v{challenger} became champion", ACTOR)
        return
    why = f"v{replaced} stands by: the canary holds v{challenger} against it ({reason})"
    move_alias(settings, STANDBY, replaced, "standby", why, ACTOR)
    move_alias(settings, CHALLENGER, replaced, "standby", why, ACTOR)


def fall_back(settings: Settings, reason: str) -> str:
    """The standby beat the champion that replaced it: it is champion again, and neither alias
    is left on it (the model that fell behind is not a baseline)."""
    standby, fallen = alias_version(settings, STANDBY), alias_version(settings, CHAMPION)
    why = f"v{fallen} fell behind standby v{standby} on live traffic: {reason}"
    move_alias(settings, CHAMPION, standby, "rollback", why, ACTOR)
    move_alias(settings, CHALLENGER, None, "retire", f"v{standby} is champion again", ACTOR)
    move_alias(settings, STANDBY, None, "retire", f"v{standby} is champion again", ACTOR)
    return why
