"""Monitoring: is what the champion serves still what it learned from, and is the canary better?

daily.py runs a day (the monitor_drift DAG calls it): champion.py (reference), served.py
(current features and scores), reports.py (Evidently), workspace.py (project and
dashboard), verdict.py, triggers.py (retrain with cooldown), ab.py (canary vs champion), ui.py.
"""
