"""Ranking policies the simulator asks for slates; the served BentoML model plugs in here later.

A policy gets a batch of requests (who asks, which candidates, the context) and returns, for
each request, the chosen candidate positions in slate order with the probability that each
shown item was shown, so the logs support off-policy evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from engageflow.schema import Policy


@dataclass(frozen=True)
class SlateRequests:
    request_ids: np.ndarray  # str, (n,)
    user_ids: np.ndarray  # str, (n,)
    candidates: np.ndarray  # item ids, str, (n, c)
    device: np.ndarray  # str, (n,)
    hour: np.ndarray  # int, (n,)
    k: int
    ts: np.ndarray | None = None  # datetime64[us] UTC, (n,): when each request is made


@dataclass(frozen=True)
class Slates:
    chosen: np.ndarray  # int, (n, k): indices into each request's candidates, in slate order
    propensity: np.ndarray  # float, (n, k): P(the item is in the slate) under the policy
    policy: np.ndarray  # str, (n,): a schema.Policy value per request
    model_version: np.ndarray  # str or None, (n,)
    # The policy's own request ids (a served policy logs under them), else the simulator's.
    request_ids: np.ndarray | None = None


class SlatePolicy(Protocol):
    def __call__(self, requests: SlateRequests, rng: np.random.Generator) -> Slates: ...


def uniform_random(requests: SlateRequests, rng: np.random.Generator) -> Slates:
    """Show k of the c candidates uniformly at random: pure exploration, propensity k / c."""
    n, c = requests.candidates.shape
    chosen = np.argsort(rng.random((n, c)), axis=1)[:, : requests.k]
    return Slates(
        chosen=chosen,
        propensity=np.full(chosen.shape, requests.k / c),
        policy=np.full(n, Policy.EXPLORE.value, dtype=object),
        model_version=np.full(n, None, dtype=object),
    )


POLICIES: dict[str, SlatePolicy] = {"random": uniform_random}
