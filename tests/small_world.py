"""The small, fast simulated world every test data dir starts from: the demo's world with fewer
requests a day (engageflow.app.demo imports nothing of Airflow, so conftest may load it first)."""

from engageflow.app.demo import DEMO_WORLD

SMALL_WORLD = {**DEMO_WORLD, "requests_per_day": 400}
