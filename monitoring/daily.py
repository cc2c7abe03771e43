"""One monitored day: sample, served features and scores, Evidently snapshots, the verdict.

Everything a run writes lands in <data_dir>/monitoring/date=D/ (HTML reports, summary.json,
ab.json, the judged sample that later days calibrate on), swapped into place at once, and in
the Evidently workspace (the day's runs replaced).
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pandas as pd

from engageflow.settings import Settings
from monitoring import reports
from monitoring.ab import ab_readout, arm_versions
from monitoring.ab_window import experiment_window
from monitoring.baseline import Baseline, served_baseline
from monitoring.champion import Champion, find_champion, reference_frame
from monitoring.drift import SAMPLE_FILE, DriftCheck, Unjudged, drift_check
from monitoring.served import current_sample, day_events, labelled_impressions
from monitoring.stored import monitoring_dir
from monitoring.verdict import Observed, drift_verdict
from monitoring.workspace import DRIFT, PERFORMANCE, QUALITY, policy_tag, replace_day_runs


def snapshots(
    settings: Settings,
    day: date,
    check: DriftCheck | Unjudged,
    current: pd.DataFrame,
    events: pd.DataFrame,
    model: Champion,
) -> dict[str, Any]:
    """The day's snapshots by name: drift (when judged), quality, and performance overall and
    per policy."""
    when = datetime.combine(day, time(12), tzinfo=UTC)
    meta = {"day": day.isoformat(), "champion": str(model.version)}

    def stamp(*tags: str) -> dict[str, Any]:
        return {"timestamp": when, "tags": [*tags], "metadata": meta}

    out = {
        QUALITY: reports.quality_snapshot(events, stamp(QUALITY)),
        f"{PERFORMANCE}_all": reports.performance_snapshot(
            current, stamp(PERFORMANCE, policy_tag("all"))
        ),
    }
    if isinstance(check, DriftCheck):
        out[DRIFT] = reports.drift_snapshot(
            check.reference,
            check.current,
            model.features,
            settings.monitoring,
            check.bounds.columns,
            stamp(DRIFT),
        )
    for policy, rows in current.groupby("policy"):
        out[f"{PERFORMANCE}_{policy}"] = reports.performance_snapshot(
            rows, stamp(PERFORMANCE, policy_tag(str(policy))), str(policy)
        )
    return out


def observe(check: DriftCheck | Unjudged, good_rate: float | None, baseline: Baseline) -> Observed:
    """The verdict's inputs: judged distances and bounds, the day's good rate and baseline."""
    return Observed(
        distances=check.judged() if isinstance(check, DriftCheck) else {},
        judged=check.describe() if isinstance(check, DriftCheck) else check.reason,
        good_rate=good_rate,
        reference_good_rate=baseline.good_rate,
        reference=baseline.source,
        score=reports.SCORE,
    )


def good_rate_baseline(settings: Settings, day: date, model: Champion) -> Baseline:
    """The served days' baseline, else the champion's training data (monitoring/baseline.py)."""
    served = served_baseline(settings, day, model.version)
    if served is not None:
        return served
    training = reference_frame(settings, model)
    return Baseline(float(training["good"].mean()), f"champion v{model.version}'s training data")


def publish(folder: Path, files: dict[str, str | bytes]) -> Path:
    """Replace `folder` with exactly `files` (name -> text or bytes) in one rename."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.with_name(f".{folder.name}.{uuid.uuid4().hex}.tmp")
    old = folder.with_name(f".{folder.name}.{uuid.uuid4().hex}.old")
    try:
        staging.mkdir()
        for name, content in files.items():
            target = staging / name
            target.write_bytes(content) if isinstance(content, bytes) else target.write_text(
                content
            )
        if folder.exists():
            os.replace(folder, old)
        os.replace(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
    return folder


def readout(settings: Settings, impressions: pd.DataFrame, days: int = 1) -> dict[str, Any]:
    """The A/B readout of canary vs champion, with the versions that served each arm."""
    ab = ab_readout(impressions, settings.monitoring, days).to_dict()
    return {**ab, "versions": arm_versions(impressions)}


def day_readout(settings: Settings, day: date, impressions: pd.DataFrame) -> dict[str, Any]:
    """The readout of `day`, pooled over every day the canary served the challenger so far."""
    pooled, days = experiment_window(settings, day, impressions)
    return readout(settings, pooled, days)


def without_champion(settings: Settings, day: date, impressions: pd.DataFrame) -> dict[str, Any]:
    """Before the first champion there is nothing to compare with: no drift, a summary only."""
    reason = "no champion yet: nothing to compare the day with"
    ab = day_readout(settings, day, impressions)
    summary = {
        "day": day.isoformat(),
        "champion": None,
        "rows": {"impressions": len(impressions), "sampled": 0},
        "policies": impressions["policy"].value_counts(dropna=False).to_dict(),
        "verdict": {"drift": False, "reasons": [], "reason": reason},
        "ab": ab,
    }
    files = {
        "summary.json": json.dumps(summary, indent=1, default=str),
        "ab.json": json.dumps(ab, indent=1, default=str),
    }
    summary["folder"] = str(publish(monitoring_dir(settings, day), files))
    return summary


def monitor_day(settings: Settings, day: date) -> dict[str, Any]:
    """Monitor `day` against the champion; returns the JSON-able summary with the verdict."""
    model = find_champion(settings)
    events = day_events(settings, day)
    impressions = labelled_impressions(settings, events)
    if model is None:
        return without_champion(settings, day, impressions)
    current = current_sample(settings, day, impressions, model)
    check = drift_check(settings, day, current, model)
    shots = snapshots(settings, day, check, current, events, model)
    values = {name: reports.metric_values(snap) for name, snap in shots.items()}
    good_rate = float(impressions["good"].mean()) if len(impressions) else None
    baseline = good_rate_baseline(settings, day, model)
    observed = observe(check, good_rate, baseline)
    verdict = drift_verdict(observed, settings.monitoring)
    ab = day_readout(settings, day, impressions)
    summary = {
        "day": day.isoformat(),
        "champion": model.version,
        "feature_service": model.feature_service,
        "rows": {"impressions": len(impressions), "sampled": len(current)},
        "score_sources": current["score_source"].value_counts().to_dict(),
        "verdict": verdict.to_dict(),
        "distances": {
            "judged": observed.judged,
            "columns": {c: {"distance": d, "bound": b} for c, (d, b) in observed.distances.items()},
        },
        "good_rate": {"day": good_rate, "reference": baseline.good_rate, "of": baseline.source},
        "values": values,
        "failed_tests": {name: reports.failed_tests(snap) for name, snap in shots.items()},
        "ab": ab,
    }
    summary["runs"] = replace_day_runs(settings, day.isoformat(), shots)
    files: dict[str, str | bytes] = {
        f"{name}.html": snap.get_html_str(as_iframe=False) for name, snap in shots.items()
    }
    files[SAMPLE_FILE] = current.to_parquet(index=False)
    files["summary.json"] = json.dumps(summary, indent=1, default=str)
    files["ab.json"] = json.dumps(ab, indent=1, default=str)
    summary["folder"] = str(publish(monitoring_dir(settings, day), files))
    return summary
