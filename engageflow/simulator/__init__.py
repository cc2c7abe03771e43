"""The engagement-loop simulator: a seeded world that asks a ranking policy for every slate."""

from engageflow.simulator.policies import POLICIES, SlatePolicy, SlateRequests, Slates
from engageflow.simulator.run import SimulatedDay, simulate
from engageflow.simulator.traffic import DayOfTraffic, simulate_day

__all__ = [
    "POLICIES",
    "DayOfTraffic",
    "SimulatedDay",
    "SlatePolicy",
    "SlateRequests",
    "Slates",
    "simulate",
    "simulate_day",
]
