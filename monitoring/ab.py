"""A/B readout of canary vs champion: per-user good-engagement rate, bad-engagement guardrail.

The readout pools every day the canary served the current challenger and is read after each
day, so it uses a sequential test that stays valid under those repeated looks (the mSPRT,
monitoring/sequential.py), not a fixed-horizon t-test. Outcomes: promote, roll back, keep the
champion when the horizon passes without a conclusion, else keep testing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from engageflow.schema import Policy
from engageflow.settings import MonitoringConfig
from monitoring.sequential import SequentialTest, msprt

Decision = Literal["promote", "keep_testing", "roll_back", "keep_champion"]
NAN = float("nan")


@dataclass(frozen=True)
class Readout:
    canary_users: int
    champion_users: int
    days: int  # days pooled: those the canary served the challenger
    canary_rate: float
    champion_rate: float
    difference: float
    p_value: float  # always valid (mSPRT)
    ci_low: float  # confidence sequence of the good-rate difference
    ci_high: float
    bad_difference: float  # guardrail: canary minus champion bad-engagement rate
    bad_ci_low: float
    bad_ci_high: float
    decision: Decision
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def user_rates(impressions: pd.DataFrame, policy: str, label: str = "good") -> np.ndarray:
    """Each user's share of `label` engagements among their impressions under `policy`."""
    shown = impressions[impressions["policy"] == policy]
    return shown.groupby("user_id")[label].mean().to_numpy(dtype=float)


def arm_versions(impressions: pd.DataFrame) -> dict[str, list[str]]:
    """The model versions that served each arm (canary, champion), so an action on the readout
    can check it still concerns the current challenger."""
    out = {}
    for policy in (Policy.CANARY.value, Policy.CHAMPION.value):
        served = impressions.loc[impressions["policy"] == policy, "model_version"]
        out[policy] = sorted({str(v) for v in served.dropna()})
    return out


def mixture_spread(champion: np.ndarray, config: MonitoringConfig) -> float:
    """The mSPRT's tau: the lift the test is tuned to find (`ab_expected_lift`, relative to
    the champion's rate), so the same setting fits a 2% and a 40% good rate."""
    return max(config.ab_expected_lift * float(champion.mean()), 1e-6)


def decide(
    good: SequentialTest,
    bad: SequentialTest,
    users: int,
    days: int,
    config: MonitoringConfig,
) -> tuple[Decision, str]:
    """Roll back when the canary is surely worse on good engagement or surely raises bad
    engagement by more than `ab_bad_margin`; promote when surely better by more than
    `ab_min_lift`; keep the champion after `ab_max_days` without either; else keep testing."""
    if users < config.ab_min_users:
        return "keep_testing", f"{users} users in the smaller arm < {config.ab_min_users}"
    if good.ci_high < 0:
        return "roll_back", f"canary worse by {-good.difference:.4f} (p={good.p_value:.3g})"
    if bad.ci_low > config.ab_bad_margin:
        return "roll_back", (
            f"canary raises bad engagement by {bad.difference:.4f} (p={bad.p_value:.3g})"
        )
    if good.ci_low > config.ab_min_lift:
        return "promote", f"canary better by {good.difference:.4f} (p={good.p_value:.3g})"
    if days >= config.ab_max_days:
        return "keep_champion", (
            f"no conclusion after {days} days (difference {good.difference:+.4f}, "
            f"p={good.p_value:.3g}): the champion stays"
        )
    return "keep_testing", (
        f"difference {good.difference:+.4f} not conclusive yet (p={good.p_value:.3g}, "
        f"day {days} of {config.ab_max_days})"
    )


def ab_readout(impressions: pd.DataFrame, config: MonitoringConfig, days: int = 1) -> Readout:
    """The readout from labelled impressions (user_id, policy, good, bad) pooled over `days`."""
    canary = user_rates(impressions, Policy.CANARY.value)
    champion = user_rates(impressions, Policy.CHAMPION.value)
    users = min(len(canary), len(champion))
    if users < 2:
        reason = f"{users} users in the smaller arm < {max(config.ab_min_users, 2)}"
        return Readout(len(canary), len(champion), days, *[NAN] * 9, "keep_testing", reason)
    tau = mixture_spread(champion, config)
    good = msprt(canary, champion, tau, config.ab_alpha)
    canary_bad = user_rates(impressions, Policy.CANARY.value, "bad")
    champion_bad = user_rates(impressions, Policy.CHAMPION.value, "bad")
    bad = msprt(canary_bad, champion_bad, mixture_spread(champion_bad, config), config.ab_alpha)
    decision, reason = decide(good, bad, users, days, config)
    return Readout(
        len(canary),
        len(champion),
        days,
        float(canary.mean()),
        float(champion.mean()),
        good.difference,
        good.p_value,
        good.ci_low,
        good.ci_high,
        bad.difference,
        bad.ci_low,
        bad.ci_high,
        decision,
        reason,
    )
