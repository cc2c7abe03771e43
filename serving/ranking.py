"""From candidates to a slate: canary routing, scoring, exploration and fallback, without HTTP.

The service fetches features and calls `decide`; everything here is a plain function of its
arguments, so each path (champion, canary, explore, fallback) is tested directly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engageflow.schema import Policy
from engageflow.settings import ServingConfig
from serving.canary import in_canary
from serving.exploration import choose, top_k
from serving.model_slot import LoadedModel

ALIAS_POLICY = {"champion": Policy.CHAMPION, "challenger": Policy.CANARY}


@dataclass(frozen=True)
class Decision:
    order: np.ndarray  # indices into the request's candidates, slate order
    scores: np.ndarray  # score of each shown candidate
    propensity: np.ndarray
    policy: Policy
    model_version: str | None
    reason: str  # why this path was taken, for logs and the response headers


def route(
    user_id: str, models: dict[str, LoadedModel], config: ServingConfig
) -> LoadedModel | None:
    """The model for this user: the challenger for the sticky canary share, else the champion.
    Without a champion there is nothing to test a challenger against: no user gets it."""
    challenger, champion = models.get("challenger"), models.get("champion")
    if (
        challenger is not None
        and champion is not None
        and challenger.version != champion.version
        and in_canary(user_id, config.canary_share, config.canary_salt)
    ):
        return challenger
    return champion


def fallback(popularity: np.ndarray, k: int, reason: str) -> Decision:
    """Best candidates by good-engagement rate; deterministic, so every propensity is 1."""
    order = top_k(popularity, k)
    return Decision(order, popularity[order], np.ones(len(order)), Policy.FALLBACK, None, reason)


def bootstrap(popularity: np.ndarray, k: int, epsilon: float, rng: np.random.Generator) -> Decision:
    """No model yet (before the first champion): the fallback's order, explored with `epsilon`,
    with exact propensities, so the first model and off-policy estimates can learn from it."""
    choice = choose(popularity, k, epsilon, rng)
    policy = Policy.EXPLORE if choice.explored else Policy.FALLBACK
    return Decision(
        choice.order,
        popularity[choice.order],
        choice.propensity,
        policy,
        None,
        "no model loaded",
    )


def decide(
    model: LoadedModel | None,
    features: np.ndarray | None,
    popularity: np.ndarray,
    k: int,
    config: ServingConfig,
    rng: np.random.Generator,
    why: str = "features unavailable",
) -> Decision:
    """Score with `model` when it and the features are there; otherwise fall back to popularity.
    `why` says why features are missing, or is a note on the features (added to the reason)."""
    if model is None:
        return bootstrap(popularity, k, config.epsilon, rng)
    if features is None:
        return fallback(popularity, k, why)
    scores = np.asarray(model.score(features), dtype=np.float64)
    choice = choose(scores, k, config.epsilon, rng)
    policy = Policy.EXPLORE if choice.explored else ALIAS_POLICY[model.alias]
    return Decision(
        choice.order,
        scores[choice.order],
        choice.propensity,
        policy,
        model.version,
        f"{model.alias} v{model.version}" + (f" ({why})" if why else ""),
    )
