"""How simulated users respond to a shown item: the laws the simulator's tests check.

Clickbait raises the click probability but shortens dwell and raises hides and reports; latent
quality lengthens dwell; topic preference drives both; position lowers the chance an item is
even looked at. Topic-appeal drifts shift a topic's appeal from a given day on (the catalog's
drifts are drawn in world.py). Every probability here is exact, so the simulator can write the
true chance of good engagement for oracle metrics.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
from scipy.special import expit, ndtr

from engageflow.settings import Drift, LabelConfig

MAX_DWELL_SECONDS = 3600.0  # clients stop counting dwell after an hour


@dataclass(frozen=True)
class Laws:
    """Coefficients of the response model (logits unless named otherwise)."""

    position_decay: float = 0.8
    click_base: float = -1.0
    click_affinity: float = 0.6
    click_clickbait: float = 2.5
    click_quality: float = 0.3
    dwell_median_seconds: float = 40.0
    dwell_quality: float = 0.5
    dwell_clickbait: float = -2.5
    dwell_affinity: float = 0.3
    dwell_sigma: float = 0.9
    drift_dwell_share: float = 0.5
    hide_base: float = -4.0
    hide_clickbait: float = 3.5
    hide_affinity: float = -0.4
    hide_quality: float = -0.3
    report_base: float = -6.5
    report_clickbait: float = 4.0
    report_quality: float = -0.5
    like_base: float = -1.5
    like_quality: float = 0.8
    like_affinity: float = 0.5
    like_clickbait: float = -1.5
    share_given_like: float = 0.15


@dataclass(frozen=True)
class Exposure:
    """The latent facts of a batch of impressions, one entry per shown item."""

    preference: np.ndarray  # user's preference for the item's topic, in (0, 1]
    topics: int
    topic: np.ndarray
    quality: np.ndarray
    clickbait: np.ndarray
    position: np.ndarray  # 0-based slate position


@dataclass(frozen=True)
class Chances:
    examine: np.ndarray
    click_if_examined: np.ndarray
    dwell_mu: np.ndarray  # log-seconds
    hide_if_examined: np.ndarray
    report_if_examined: np.ndarray
    like_if_clicked: np.ndarray


def topic_shift(drifts: list[Drift], topics: np.ndarray, day: date) -> np.ndarray:
    """The appeal shift of each item's topic on `day`, summing every topic_appeal drift begun."""
    shift = np.zeros(len(topics))
    for drift in drifts:
        if drift.kind == "topic_appeal" and day >= drift.day:
            shift += np.where(topics == drift.topic, drift.shift, 0.0)
    return shift


def chances(x: Exposure, shift: np.ndarray, laws: Laws = Laws()) -> Chances:
    affinity = np.log(x.topics * x.preference + 0.1)
    return Chances(
        examine=(1.0 + x.position) ** -laws.position_decay,
        click_if_examined=expit(
            laws.click_base
            + laws.click_affinity * affinity
            + laws.click_clickbait * x.clickbait
            + laws.click_quality * x.quality
            + shift
        ),
        dwell_mu=(
            np.log(laws.dwell_median_seconds)
            + laws.dwell_quality * x.quality
            + laws.dwell_clickbait * x.clickbait
            + laws.dwell_affinity * affinity
            + laws.drift_dwell_share * shift
        ),
        hide_if_examined=expit(
            laws.hide_base
            + laws.hide_clickbait * x.clickbait
            + laws.hide_affinity * affinity
            + laws.hide_quality * x.quality
        ),
        report_if_examined=expit(
            laws.report_base + laws.report_clickbait * x.clickbait + laws.report_quality * x.quality
        ),
        like_if_clicked=expit(
            laws.like_base
            + laws.like_quality * x.quality
            + laws.like_affinity * affinity
            + laws.like_clickbait * x.clickbait
        ),
    )


def truth(c: Chances, labels: LabelConfig, laws: Laws = Laws()) -> dict[str, np.ndarray]:
    """Exact P(click), P(good engagement) and P(bad engagement) of each impression."""

    def dwell_below(seconds: float) -> np.ndarray:
        return ndtr((np.log(seconds) - c.dwell_mu) / laws.dwell_sigma)

    click = c.examine * c.click_if_examined
    no_negative = (1.0 - c.examine * c.hide_if_examined) * (1.0 - c.examine * c.report_if_examined)
    good = click * (1.0 - dwell_below(labels.good_dwell_seconds)) * no_negative
    bad = 1.0 - (1.0 - click * dwell_below(labels.bounce_dwell_seconds)) * no_negative
    return {"p_click": click, "p_good": good, "p_bad": bad}


@dataclass(frozen=True)
class Responses:
    clicked: np.ndarray
    dwell_seconds: np.ndarray  # NaN where not clicked
    liked: np.ndarray
    shared: np.ndarray
    hidden: np.ndarray
    reported: np.ndarray


def respond(c: Chances, rng: np.random.Generator, laws: Laws = Laws()) -> Responses:
    """Draw what users do; hides and reports are independent of the click, given examination."""
    n = len(c.examine)
    examined = rng.random(n) < c.examine
    clicked = examined & (rng.random(n) < c.click_if_examined)
    dwell = np.exp(c.dwell_mu + laws.dwell_sigma * rng.standard_normal(n))
    dwell = np.where(clicked, np.minimum(dwell, MAX_DWELL_SECONDS), np.nan)
    liked = clicked & (rng.random(n) < c.like_if_clicked)
    return Responses(
        clicked=clicked,
        dwell_seconds=dwell,
        liked=liked,
        shared=liked & (rng.random(n) < laws.share_given_like),
        hidden=examined & (rng.random(n) < c.hide_if_examined),
        reported=examined & (rng.random(n) < c.report_if_examined),
    )
