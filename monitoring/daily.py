"""One monitored day: sample, served features and scores, Evidently snapshots, the verdict.

Everything a run writes lands in <data_dir>/monitoring/date=D/ (HTML reports, summary.json,
ab.json), swapped into place at once, and in the Evidently workspace (the day's runs replaced).
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

from engageflow.sampling import stratified_sample
from engageflow.settings import Settings
from monitoring import reports
from monitoring.ab import ab_readout, arm_versions
from monitoring.ab_window import experiment_window
from monitoring.baseline import Baseline, served_baseline
from monitoring.champion import Champion, find_champion, reference_frame
from monitoring.served import (
    champion_scores,
    day_events,
    labelled_impressions,
    served_features,
    with_scores,
)
from monitoring.stored import monitoring_dir
from monitoring.verdict import Observed, drift_verdict
from monitoring.workspace import DRIFT, PERFORMANCE, QUALITY, policy_tag, replace_day_runs


def seed_of(settings: Settings) -> int:
    config = settings.monitoring
    return config.seed if config.seed is not None else settings.seed


def reference_sample(settings: Settings, model: Champion) -> pd.DataFrame:
    """A fixed-size sample of the champion's training data, scored by the champion."""
    frame = reference_frame(settings, model)
    sample = stratified_sample(frame, "policy", settings.monitoring.sample_size, seed_of(settings))
    return sample.assign(score=champion_scores(settings, model, sample))


def current_sample(
    settings: Settings, day: date, impressions: pd.DataFrame, model: Champion
) -> pd.DataFrame:
    """A fixed-size sample of the day's impressions with served features and scores."""
    sample = stratified_sample(
        impressions, "policy", settings.monitoring.sample_size, seed_of(settings)
    )
    return with_scores(settings, day, served_features(settings, day, sample, model), model)


def snapshots(
    settings: Settings,
    day: date,
    reference: pd.DataFrame,
    current: pd.DataFrame,
    events: pd.DataFrame,
    model: Champion,
) -> dict[str, Any]:
    """The day's snapshots by name: drift, quality, and performance overall and per policy."""
    when = datetime.combine(day, time(12), tzinfo=UTC)
    meta = {"day": day.isoformat(), "champion": str(model.version)}

    def stamp(*tags: str) -> dict[str, Any]:
        return {"timestamp": when, "tags": [*tags], "metadata": meta}

    config = settings.monitoring
    out = {
        DRIFT: reports.drift_snapshot(reference, current, model.features, config, stamp(DRIFT)),
        QUALITY: reports.quality_snapshot(events, stamp(QUALITY)),
        f"{PERFORMANCE}_all": reports.performance_snapshot(
            current, stamp(PERFORMANCE, policy_tag("all"))
        ),
    }
    for policy, rows in current.groupby("policy"):
        out[f"{PERFORMANCE}_{policy}"] = reports.performance_snapshot(
            rows, stamp(PERFORMANCE, policy_tag(str(policy))), str(policy)
        )
    return out


def observe(
    values: dict[str, dict[str, Any]], good_rate: float | None, baseline: Baseline
) -> Observed:
    """The verdict's inputs: the drift snapshot's values, the day's good rate and its baseline."""
    drift = values[DRIFT]
    return Observed(
        drifted_share=drift["DriftedColumnsCount"]["share"],
        drifted_count=int(drift["DriftedColumnsCount"]["count"]),
        prediction_drift=drift.get(f"ValueDrift:{reports.SCORE}"),
        good_rate=good_rate,
        reference_good_rate=baseline.good_rate,
        reference=baseline.source,
    )


def good_rate_baseline(
    settings: Settings, day: date, model: Champion, reference: pd.DataFrame
) -> Baseline:
    """The served days' baseline, else the champion's training data (monitoring/baseline.py)."""
    served = served_baseline(settings, day, model.version)
    if served is not None:
        return served
    return Baseline(float(reference["good"].mean()), f"champion v{model.version}'s training data")


def publish(folder: Path, files: dict[str, str]) -> Path:
    """Replace `folder` with exactly `files` (name -> text) in one rename."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.with_name(f".{folder.name}.{uuid.uuid4().hex}.tmp")
    old = folder.with_name(f".{folder.name}.{uuid.uuid4().hex}.old")
    try:
        staging.mkdir()
        for name, text in files.items():
            (staging / name).write_text(text)
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
    reference = reference_sample(settings, model)
    current = current_sample(settings, day, impressions, model)
    shots = snapshots(settings, day, reference, current, events, model)
    values = {name: reports.metric_values(snap) for name, snap in shots.items()}
    good_rate = float(impressions["good"].mean()) if len(impressions) else None
    baseline = good_rate_baseline(settings, day, model, reference)
    verdict = drift_verdict(observe(values, good_rate, baseline), settings.monitoring)
    ab = day_readout(settings, day, impressions)
    summary = {
        "day": day.isoformat(),
        "champion": model.version,
        "feature_service": model.feature_service,
        "rows": {"impressions": len(impressions), "sampled": len(current)},
        "score_sources": current["score_source"].value_counts().to_dict(),
        "verdict": verdict.to_dict(),
        "good_rate": {"day": good_rate, "reference": baseline.good_rate, "of": baseline.source},
        "values": values,
        "failed_tests": {name: reports.failed_tests(snap) for name, snap in shots.items()},
        "ab": ab,
    }
    summary["runs"] = replace_day_runs(settings, day.isoformat(), shots)
    files = {f"{name}.html": snap.get_html_str(as_iframe=False) for name, snap in shots.items()}
    files["summary.json"] = json.dumps(summary, indent=1, default=str)
    files["ab.json"] = json.dumps(ab, indent=1, default=str)
    summary["folder"] = str(publish(monitoring_dir(settings, day), files))
    return summary
