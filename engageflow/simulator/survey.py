"""The satisfaction survey: a random share of sessions rate the session from 1 to 5 afterwards.

The score follows an ordered logit on the session's value (retention.py) against the status
quo: latent = survey_slope * (value - neutral_session) + logistic noise, cut at `survey_cuts`.
A status-quo session scores 3 most often (46%); each good engagement above it moves the latent
+0.8, a bounce -1.6, a hide or report -3.2. Who answers is independent of the session, so the
answers are an unbiased sample of sessions. The exact score distribution is ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from engageflow.settings import RetentionConfig

SCORES = np.arange(1, 6)


@dataclass(frozen=True)
class Surveys:
    answered: np.ndarray  # bool, per session
    score: np.ndarray  # int8 1..5 where answered, 0 elsewhere
    expected: np.ndarray  # float64: the exact E[score] of every session, answered or not


def score_chances(values: np.ndarray, config: RetentionConfig) -> np.ndarray:
    """P(score = 1..5) of each session, shape (n, 5)."""
    latent = config.survey_slope * (values - config.neutral_session)
    below = expit(np.asarray(config.survey_cuts)[None, :] - latent[:, None])  # P(score <= k)
    ones = np.ones((len(values), 1))
    return np.diff(np.hstack([0.0 * ones, below, ones]), axis=1)


def survey(values: np.ndarray, config: RetentionConfig, rng: np.random.Generator) -> Surveys:
    """Who answers and what they answer, from a stream of the survey's own."""
    n = len(values)
    answered = rng.random(n) < config.survey_share
    chances = score_chances(values, config)
    drawn = 1 + (rng.random((n, 1)) > np.cumsum(chances, axis=1)[:, :-1]).sum(axis=1)
    return Surveys(
        answered=answered,
        score=np.where(answered, drawn, 0).astype(np.int8),
        expected=chances @ SCORES,
    )
