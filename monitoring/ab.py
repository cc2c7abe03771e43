"""A/B readout of canary vs champion on the per-user good-engagement rate.

Welch's t-test (unequal variances) on the users' rates and a seeded percentile bootstrap of the
difference of means give a verdict the promotion gate can use: promote, keep testing or roll back.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from engageflow.schema import Policy
from engageflow.settings import MonitoringConfig

Decision = Literal["promote", "keep_testing", "roll_back"]


@dataclass(frozen=True)
class Readout:
    canary_users: int
    champion_users: int
    canary_rate: float
    champion_rate: float
    difference: float
    t_statistic: float
    p_value: float
    ci_low: float
    ci_high: float
    decision: Decision
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def user_rates(impressions: pd.DataFrame, policy: str) -> np.ndarray:
    """Each user's share of good engagements among their impressions under `policy`."""
    shown = impressions[impressions["policy"] == policy]
    return shown.groupby("user_id")["good"].mean().to_numpy(dtype=float)


def arm_versions(impressions: pd.DataFrame) -> dict[str, list[str]]:
    """The model versions that served each arm (canary, champion), so an action on the readout
    can check it still concerns the current challenger."""
    out = {}
    for policy in (Policy.CANARY.value, Policy.CHAMPION.value):
        served = impressions.loc[impressions["policy"] == policy, "model_version"]
        out[policy] = sorted({str(v) for v in served.dropna()})
    return out


def welch(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(t, two-sided p) of Welch's test of mean(a) - mean(b)."""
    from scipy import stats

    result = stats.ttest_ind(a, b, equal_var=False)
    return float(result.statistic), float(result.pvalue)


def bootstrap_interval(
    a: np.ndarray, b: np.ndarray, samples: int, confidence: float, seed: int
) -> tuple[float, float]:
    """Percentile bootstrap interval of mean(a) - mean(b), resampling users within each arm
    (`scipy.stats.bootstrap`, two independent samples, seeded)."""
    from scipy import stats

    result = stats.bootstrap(
        (a, b),
        lambda x, y, axis: x.mean(axis=axis) - y.mean(axis=axis),
        n_resamples=samples,
        vectorized=True,
        confidence_level=confidence,
        method="percentile",
        rng=np.random.default_rng(seed),
    )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def decide(
    difference: float, p_value: float, ci: tuple[float, float], users: int, config: MonitoringConfig
) -> tuple[Decision, str]:
    """Roll back when the canary is significantly worse, promote when significantly better by
    more than `ab_min_lift`, else keep testing (also while either arm has too few users)."""
    if users < config.ab_min_users:
        return "keep_testing", f"{users} users in the smaller arm < {config.ab_min_users}"
    significant = p_value < config.ab_alpha
    if significant and ci[1] < 0:
        return "roll_back", f"canary worse by {-difference:.4f} (p={p_value:.3g})"
    if significant and ci[0] > config.ab_min_lift:
        return "promote", f"canary better by {difference:.4f} (p={p_value:.3g})"
    return "keep_testing", f"difference {difference:+.4f} not conclusive (p={p_value:.3g})"


def ab_readout(impressions: pd.DataFrame, config: MonitoringConfig, seed: int) -> Readout:
    """The readout from labelled impressions with user_id, policy and good columns."""
    canary = user_rates(impressions, Policy.CANARY.value)
    champion = user_rates(impressions, Policy.CHAMPION.value)
    users = min(len(canary), len(champion))
    if users < 2:
        decision, reason = decide(0.0, 1.0, (0.0, 0.0), users, config)
        nan = float("nan")
        return Readout(
            len(canary), len(champion), nan, nan, nan, nan, nan, nan, nan, decision, reason
        )
    difference = float(canary.mean() - champion.mean())
    t, p = welch(canary, champion)
    confidence = 1 - config.ab_alpha
    ci = bootstrap_interval(canary, champion, config.ab_bootstrap_samples, confidence, seed)
    decision, reason = decide(difference, p, ci, users, config)
    return Readout(
        len(canary),
        len(champion),
        float(canary.mean()),
        float(champion.mean()),
        difference,
        t,
        p,
        *ci,
        decision,
        reason,
    )
