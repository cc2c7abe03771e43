"""Retraining triggered by monitoring: after drift (a day later, with a cooldown: one drift
episode, one retrain), and before the first champion (bootstrap: once the lake holds a
trainable window).

Each trigger is a small JSON record in <data_dir>/monitoring/triggers/<day>.json (day, kind,
reason, the train_ranker run id), so the history survives restarts and a new Airflow database.
A drift retrain is skipped when a recorded trigger already answers it: a later one (its model
learned from the drifted day too) or a drift retrain within `cooldown_days` (the same episode).
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from engageflow import lake
from engageflow.settings import Settings
from monitoring.promotion import ROLLED_BACK_TO_STANDBY
from monitoring.stored import stored_verdict

TRAIN_DAG = "train_ranker"
BOOTSTRAP_REASON = "bootstrap: no champion yet"
Kind = Literal["drift", "bootstrap", "rollback"]


def triggers_dir(settings: Settings) -> Path:
    return settings.root / "monitoring" / "triggers"


def trigger_history(settings: Settings) -> list[dict[str, Any]]:
    """Every recorded trigger, oldest day first."""
    folder = triggers_dir(settings)
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]


def blocking_trigger(end: date, history: list[dict[str, Any]], cooldown_days: int) -> date | None:
    """The recorded trigger that makes a drift retrain ending on `end` redundant, if any: one
    on or after `end` (its model learned from the drifted day too), or a drift retrain less
    than `cooldown_days` away (the same episode). A bootstrap before the drift knew nothing
    of it, so it does not block."""
    days = [(date.fromisoformat(r["day"]), r.get("kind", "drift")) for r in history]
    near = [
        day
        for day, kind in days
        if day >= end or (kind == "drift" and abs((end - day).days) < cooldown_days)
    ]
    return min(near, key=lambda t: abs((end - t).days)) if near else None


def run_id_for(end: str, kind: Kind = "drift") -> str:
    """The train_ranker run id of a trigger: a rerun of the day cannot trigger twice."""
    return f"{kind}__{end}"


def retrain_lag(settings: Settings) -> timedelta:
    """How long after a drifted day its retrain runs: `test_days`, so the drifted day is the
    retrain's newest validation day and its refit (training.refit) learns from it. A retrain
    whose test day is the drifted day itself would learn nothing of the drift."""
    return timedelta(days=settings.training.test_days)


def decide_retrain(
    settings: Settings, verdicts: dict[str, dict[str, Any]]
) -> dict[str, str] | None:
    """The train_ranker conf {"end", "reason"} of a drift retrain, or None: the newest drifted
    day D with D + retrain_lag on or before the newest monitored day gives end = D + lag, unless
    an earlier trigger covers that end (cooldown). Verdicts of days outside this run come from
    their stored monitoring summaries."""
    newest = date.fromisoformat(max(verdicts))
    lag = retrain_lag(settings)
    oldest = date.fromisoformat(min(verdicts)) - lag
    for back in range((newest - lag - oldest).days + 1):
        day = newest - lag - timedelta(days=back)
        verdict = verdicts.get(day.isoformat()) or stored_verdict(settings, day)
        if verdict is not None and verdict["drift"]:
            break
    else:
        return None
    end = day + lag
    cooldown = settings.monitoring.cooldown_days
    if blocking_trigger(end, trigger_history(settings), cooldown) is not None:
        return None
    return {
        "end": end.isoformat(),
        "reason": f"monitor_drift {day}: {verdict['reason']} (retrained on {end}, so that {day} "
        "is in the training data)",
    }


def bootstrap_train_days(settings: Settings, end: date) -> int | None:
    """How many train days a first model can have with `end` as its last test day: the lake's
    consecutive days up to `end` less the first, the validation and the test days, at most
    training.train_days; None when not even one is left."""
    have = set(lake.partition_days(settings.root, "lake", "events"))
    run, day = 0, end
    while day in have:
        run, day = run + 1, day - timedelta(days=1)
    config = settings.training
    # The run's first day has no feature history (features of D use events before D): it
    # cannot teach a model anything.
    days = min(config.train_days, run - 1 - config.validation_days - config.test_days)
    return days if days >= 1 else None


def decide_bootstrap(settings: Settings, day: date) -> dict[str, Any] | None:
    """The train_ranker conf for a first model tested on `day`, when the lake allows one."""
    train_days = bootstrap_train_days(settings, day)
    if train_days is None:
        return None
    return {"end": day.isoformat(), "reason": BOOTSTRAP_REASON, "train_days": train_days}


def decide_rollback_retrain(actions: list[dict[str, Any]]) -> dict[str, str] | None:
    """The train_ranker conf after a fall back to the standby: a new model on data through the
    day whose readout caused it, since the champion that fell behind no longer fits the users."""
    fell = [a for a in actions if a["action"] == ROLLED_BACK_TO_STANDBY]
    if not fell:
        return None
    day = max(a["day"] for a in fell)
    return {"end": day, "reason": f"act_on_ab {day}: {fell[-1]['why']}"}


def decide_training(
    settings: Settings,
    verdicts: dict[str, dict[str, Any]],
    actions: list[dict[str, Any]] | None = None,
) -> dict[str, Any] | None:
    """What monitor_drift triggers, as {"kind", "run_id", "conf"}, or None: with no champion
    yet, a first model on the newest monitored day (no cooldown); after the A/B readout's
    `actions` fell back to the standby, a retrain; else a drift retrain."""
    from engageflow.aliases import CHAMPION
    from engageflow.registry import alias_version

    if not verdicts:
        return None
    kind: Kind
    rollback = decide_rollback_retrain(actions or [])
    if alias_version(settings, CHAMPION) is None:
        kind, conf = "bootstrap", decide_bootstrap(settings, date.fromisoformat(max(verdicts)))
    elif rollback is not None:
        kind, conf = "rollback", rollback
    else:
        kind, conf = "drift", decide_retrain(settings, verdicts)
    if conf is None:
        return None
    return {"kind": kind, "run_id": run_id_for(conf["end"], kind), "conf": conf}


def record_trigger(
    settings: Settings, conf: dict[str, Any], run_id: str, kind: Kind = "drift"
) -> Path:
    """Keep the trigger (atomically) so later days see it inside the cooldown."""
    folder = triggers_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    record = {
        "day": conf["end"],
        "kind": kind,
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
