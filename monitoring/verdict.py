"""The drift verdict: does a monitored day call for a retrain? Pure, so it is tested by hand."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from engageflow.settings import MonitoringConfig
from monitoring.calibration import SEGMENT_PREFIX


@dataclass(frozen=True)
class Observed:
    """What a day's reports measured; None where it could not be measured (e.g. no labels)."""

    # Column -> (measure, calibrated bound) for every feature, the score and each segment's
    # good-rate drop that was judged; empty when nothing was, `judged` then says why.
    distances: dict[str, tuple[float, float]]
    judged: str
    good_rate: float | None
    reference_good_rate: float | None
    reference: str = "the reference"  # what the reference rate was measured on
    score: str = "score"  # the prediction's column among `distances`

    def beyond(self) -> dict[str, tuple[float, float]]:
        """The judged columns at or beyond their bound, furthest (distance / bound) first."""
        over = {c: (d, b) for c, (d, b) in self.distances.items() if d >= b}
        return dict(sorted(over.items(), key=lambda kv: kv[1][0] / kv[1][1], reverse=True))


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


SHOWN = 5  # features named in a reason; the summary keeps every distance


def _listed(columns: dict[str, tuple[float, float]]) -> str:
    shown = [f"{c} {d:.3f} >= {b:.3f}" for c, (d, b) in list(columns.items())[:SHOWN]]
    more = len(columns) - SHOWN
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _segments(columns: dict[str, tuple[float, float]]) -> str:
    shown = [
        f"{c.removeprefix(SEGMENT_PREFIX).rstrip(']')} {d:.0%} lower (bound {b:.0%})"
        for c, (d, b) in list(columns.items())[:SHOWN]
    ]
    more = len(columns) - SHOWN
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def drift_verdict(observed: Observed, config: MonitoringConfig) -> DriftVerdict:
    """Drift when a feature, the score or a segment's good rate is beyond its calibrated bound,
    or the good rate dropped by `good_rate_drop`; each reason names value, bound and source."""
    reasons = []
    beyond = observed.beyond()
    score = beyond.pop(observed.score, None)
    segments = {c: v for c, v in beyond.items() if c.startswith(SEGMENT_PREFIX)}
    features = {c: v for c, v in beyond.items() if c not in segments}
    if features:
        reasons.append(
            f"{len(features)} features drifted beyond their calibrated bounds: "
            f"{_listed(features)} ({observed.judged})"
        )
    if score is not None:
        reasons.append(f"prediction drift {score[0]:.3f} >= {score[1]:.3f} ({observed.judged})")
    if segments:
        reasons.append(
            f"good-engagement rate fell beyond its calibrated bound in {len(segments)} "
            f"segments: {_segments(segments)} ({observed.judged})"
        )
    drop = good_rate_drop(observed.good_rate, observed.reference_good_rate)
    if drop is not None and drop >= config.good_rate_drop:
        reasons.append(
            f"good-engagement rate {observed.good_rate:.4f} is {drop:.0%} below "
            f"{observed.reference_good_rate:.4f} ({observed.reference}; bound "
            f"{config.good_rate_drop:.0%})"
        )
    return DriftVerdict(bool(reasons), reasons)
