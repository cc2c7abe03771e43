"""The small, fast simulated world every test data dir starts from (no imports: conftest
loads it before Airflow is configured)."""

SMALL_WORLD = {
    "users": 600,
    "items": 300,
    "topics": 6,
    "creators": 40,
    "new_items_per_day": 20,
    "new_users_per_day": 30,
    "requests_per_day": 400,
    "candidates": 30,
    "slate_size": 10,
}
