"""Airflow-specific helpers: run context of a task, the Airflow process env, login and secrets,
the REST client the app uses. Not DAG files: .airflowignore keeps the DAG processor out."""
