"""The drift verdict: does a monitored day call for a retrain? Pure, so it is tested by hand."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from engageflow.settings import MonitoringConfig


@dataclass(frozen=True)
class Observed:
    """What a day's reports measured; None where it could not be measured (e.g. no labels)."""

    drifted_share: float
    drifted_count: int
    prediction_drift: float | None
    good_rate: float | None
    reference_good_rate: float | None
    reference: str = "the reference"  # what the reference rate was measured on


@dataclass(frozen=True)
class DriftVerdict:
    drift: bool
    reasons: list[str] = field(default_factory=list)

    def reason(self) -> str:
        return "; ".join(self.reasons) if self.reasons else "no drift"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "reason": self.reason()}


def good_rate_drop(good_rate: float | None, reference: float | None) -> float | None:
    """Relative drop of the good-engagement rate (0.25: a quarter lower); None if unknown."""
    if good_rate is None or reference is None or reference <= 0:
        return None
    return (reference - good_rate) / reference


def drift_verdict(observed: Observed, config: MonitoringConfig) -> DriftVerdict:
    """Drift when the share of drifted features, the score distance or the drop of the good
    rate reaches its threshold in settings.monitoring; each reason names value and bound."""
    reasons = []
    if observed.drifted_share >= config.drift_share:
        reasons.append(
            f"{observed.drifted_count} features drifted (share {observed.drifted_share:.2f} "
            f">= {config.drift_share:.2f})"
        )
    score = observed.prediction_drift
    if score is not None and score >= config.prediction_drift_threshold:
        reasons.append(f"prediction drift {score:.3f} >= {config.prediction_drift_threshold:.3f}")
    drop = good_rate_drop(observed.good_rate, observed.reference_good_rate)
    if drop is not None and drop >= config.good_rate_drop:
        reasons.append(
            f"good-engagement rate {observed.good_rate:.4f} is {drop:.0%} below "
            f"{observed.reference_good_rate:.4f} ({observed.reference}; bound "
            f"{config.good_rate_drop:.0%})"
        )
    return DriftVerdict(bool(reasons), reasons)
