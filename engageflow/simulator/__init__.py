"""The engagement-loop simulator's laws: a seeded world that asks a ranking policy for every slate.

Driving it day by day into the landing zone (and over HTTP) is the app's job:
engageflow/app/simulate.py.
"""

from engageflow.simulator.policies import POLICIES, SlatePolicy, SlateRequests, Slates
from engageflow.simulator.traffic import DayOfTraffic, simulate_day

__all__ = ["POLICIES", "DayOfTraffic", "SlatePolicy", "SlateRequests", "Slates", "simulate_day"]
