"""Drift checks at production size: 1M rows x 40 features, full vs a 20k stratified sample.

Synthetic frames of that shape (policy-stratified, 32 numeric + 8 categorical features); the
drifted day shifts 12 numeric features by 0.5 std and one categorical column's mix. Shows the
time of each check and that the sampled and full runs reach the same verdicts.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from benchmarks.report import load_average, write_results
from engageflow.sampling import stratified_sample
from engageflow.settings import MonitoringConfig
from monitoring.drift import floor_of
from monitoring.reports import drift_snapshot, metric_values
from monitoring.verdict import Observed, drift_verdict

ROWS = 1_000_000
NUMERIC, CATEGORICAL = 32, 8
SHIFTED_NUMERIC = 12
POLICY_SHARES = {"champion": 0.85, "canary": 0.10, "explore": 0.04, "fallback": 0.01}
STAMP = {"tags": ["benchmark"], "metadata": {}}


def synthetic(rng: np.random.Generator, drifted: bool) -> pd.DataFrame:
    """A day of served features and scores; `drifted` moves a third of the features."""
    columns = {}
    for i in range(NUMERIC):
        shift = 0.5 if drifted and i < SHIFTED_NUMERIC else 0.0
        columns[f"num_{i:02d}"] = rng.normal(shift, 1.0, ROWS).astype("float32")
    for i in range(CATEGORICAL):
        weights = np.full(6, 1 / 6)
        if drifted and i == 0:
            weights = np.array([0.5, 0.1, 0.1, 0.1, 0.1, 0.1])
        columns[f"cat_{i}"] = rng.choice(6, ROWS, p=weights)
    columns["score"] = rng.beta(2 + (0.5 if drifted else 0), 20, ROWS)
    policies, shares = list(POLICY_SHARES), list(POLICY_SHARES.values())
    columns["policy"] = rng.choice(policies, ROWS, p=shares)
    return pd.DataFrame(columns)


def check(reference: pd.DataFrame, current: pd.DataFrame, config: MonitoringConfig) -> dict:
    features = [c for c in reference.columns if c.startswith(("num_", "cat_"))]
    # The settings' floors as every bound: this benchmark times the check; calibrating the
    # bounds is benchmarks.drift's subject.
    floor = floor_of({f for f in features if f.startswith("cat_")}, config)
    bounds = {c: floor(c) for c in [*features, "score"]}
    started = time.perf_counter()
    values = metric_values(drift_snapshot(reference, current, features, config, bounds, STAMP))
    seconds = time.perf_counter() - started
    measured = {c: (values[f"ValueDrift:{c}"], b) for c, b in bounds.items()}
    observed = Observed(measured, "the settings' floors", None, None)
    flagged = {c for c in features if c in observed.beyond()}
    return {
        "seconds": seconds,
        "observed": observed,
        "verdict": drift_verdict(observed, config),
        "flagged": flagged,
    }


def main() -> None:
    load_before = load_average()
    import evidently.presets  # noqa: F401  (import once, outside the timings: ~3-10 s cold)

    config = MonitoringConfig()
    rng = np.random.default_rng(7)
    reference = synthetic(rng, drifted=False)
    rows, same = [], []
    for name, drifted in (("undrifted", False), ("drifted", True)):
        current = synthetic(rng, drifted)
        started = time.perf_counter()
        ref_sample = stratified_sample(reference, "policy", config.sample_size, 1)
        cur_sample = stratified_sample(current, "policy", config.sample_size, 1)
        sampling = time.perf_counter() - started
        sampled = check(ref_sample, cur_sample, config)
        full = check(reference, current, config)
        same.append(
            sampled["verdict"].drift == full["verdict"].drift
            and sampled["flagged"] == full["flagged"]
        )
        for mode, result, extra in (
            ("full 1M", full, 0.0),
            (f"sample {config.sample_size:,}", sampled, sampling),
        ):
            observed = result["observed"]
            rows.append(
                [
                    name,
                    mode,
                    f"{result['seconds'] + extra:.1f}",
                    f"{len(result['flagged'])} / {NUMERIC + CATEGORICAL}",
                    f"{observed.distances['score'][0]:.3f}",
                    "drift" if result["verdict"].drift else "no drift",
                ]
            )
        print(rows[-2], rows[-1], flush=True)
    notes = (
        f"Methods fixed per column type: {config.num_method} (numeric), {config.cat_method} "
        f"(categorical); every column held against the settings' floor ({config.num_floor}, "
        f"{config.cat_floor}, score {config.score_floor}) rather than a calibrated bound. The "
        f"sample is stratified by policy, fixed size, seeded; its time includes drawing it.\n\n"
        f"Same verdict and same set of drifted columns, sampled vs full: "
        f"{'yes' if all(same) else 'NO'} (undrifted, drifted)."
    )
    write_results(
        "monitoring",
        "Drift check: 1M rows x 40 features, full vs stratified sample",
        "python -m benchmarks.monitoring",
        ["day", "rows checked", "seconds", "drifted features", "score drift", "verdict"],
        rows,
        notes,
        load_before=load_before,
    )


if __name__ == "__main__":
    main()
