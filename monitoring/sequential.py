"""Always-valid inference for an A/B difference of means: the mixture SPRT (mSPRT).

The readout is looked at every day and the test stops at the first conclusive look; a fixed-
horizon test read that way promotes far more often than its alpha. The normal-mixture mSPRT
(Johari, Pekelis & Walsh, "Always Valid Inference", Operations Research 2022; the engine behind
Optimizely's stats) stays valid at every look: under no true difference, the chance that *any*
look is conclusive is at most alpha. With the normal approximation of the difference of two
independent means, the mixture likelihood ratio, the always-valid p-value and the confidence
sequence all have closed forms, written here: scipy has none, and the one package that does
(confseq) is a research C++ extension we would rather not lock. `benchmarks/ab_readout.py`
measures the false-promotion rate of the whole readout under daily looks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SequentialTest:
    difference: float  # mean(a) - mean(b)
    variance: float  # of that estimate: var(a)/n_a + var(b)/n_b
    p_value: float  # always valid at this look
    ci_low: float  # the confidence sequence at this look
    ci_high: float


def mixture_log_ratio(difference: float, variance: float, tau: float) -> float:
    """log of the mSPRT statistic: the likelihood of `difference` under a N(0, tau^2) mixture
    of effects against no effect, both with the estimate's `variance`."""
    spread = variance + tau**2
    return 0.5 * math.log(variance / spread) + difference**2 * tau**2 / (2 * variance * spread)


def confidence_radius(variance: float, tau: float, alpha: float) -> float:
    """Half-width of the level 1 - alpha confidence sequence around the estimate: the effects
    whose mixture ratio stays below 1/alpha."""
    spread = variance + tau**2
    return math.sqrt(
        variance * spread / tau**2 * (2 * math.log(1 / alpha) + math.log(spread / variance))
    )


def msprt(a: np.ndarray, b: np.ndarray, tau: float, alpha: float) -> SequentialTest:
    """The mSPRT of mean(a) - mean(b) on all observations so far (two or more in each arm);
    `tau` is the spread of effects the test is most sensitive to, in the metric's units."""
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"each arm needs two observations, got {len(a)} and {len(b)}")
    if not tau > 0:
        raise ValueError(f"the mixture spread tau must be positive, got {tau}")
    difference = float(a.mean() - b.mean())
    variance = float(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    if variance == 0:  # both arms constant: the difference is known exactly
        p_value = 1.0 if difference == 0 else 0.0
        return SequentialTest(difference, 0.0, p_value, difference, difference)
    p_value = math.exp(min(0.0, -mixture_log_ratio(difference, variance, tau)))
    radius = confidence_radius(variance, tau, alpha)
    return SequentialTest(difference, variance, p_value, difference - radius, difference + radius)
