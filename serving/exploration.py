"""Slate-level epsilon-greedy exploration with exact propensities.

With probability 1 - epsilon the slate is the top k by score; with probability epsilon it is a
uniformly random k of the candidates in random order. Either way, the probability that candidate
i is in the slate is exactly (1 - epsilon) * [i in top k] + epsilon * k / n, which is what we log:
the next model and off-policy evaluation can then correct for what the policy showed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Choice:
    order: np.ndarray  # indices into the candidates, in slate order
    propensity: np.ndarray  # P(candidate in slate) for each shown candidate
    explored: bool


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k best scores, best first; ties keep candidate order (stable)."""
    k = min(k, len(scores))
    if k == len(scores):
        return np.argsort(-scores, kind="stable")
    part = np.argpartition(-scores, k - 1)[:k]
    return part[np.lexsort((part, -scores[part]))]


def choose(scores: np.ndarray, k: int, epsilon: float, rng: np.random.Generator) -> Choice:
    """Pick a slate of min(k, n) candidates and the exact propensity of each shown one."""
    n = len(scores)
    k = min(k, n)
    greedy = top_k(scores, k)
    explored = bool(epsilon > 0 and rng.random() < epsilon)
    order = rng.choice(n, size=k, replace=False) if explored else greedy
    in_top = np.zeros(n, dtype=bool)
    in_top[greedy] = True
    propensity = (1.0 - epsilon) * in_top[order] + epsilon * k / n
    return Choice(order=order, propensity=propensity, explored=explored)
