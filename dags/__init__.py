"""Airflow DAG files (wiring only) and, in support/, the Airflow-specific helpers beside them."""
