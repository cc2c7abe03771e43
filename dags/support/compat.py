"""Workarounds for Airflow on our two databases, each with the failure it answers."""

from __future__ import annotations

# Read by Airflow through `[database] sql_alchemy_connect_args` (an import path), on SQLite only.
# pysqlite gives up on a locked database after 5 s; with the scheduler, dag-processor and
# api-server writing one SQLite file on a busy 2-core machine, a write can wait longer, and the
# api-server then answers 503 "Database is locked" (seen on a fresh CI machine). Waiting up to
# a minute turns those into slow answers instead of failures.
SQLITE_CONNECT_ARGS = {"timeout": 60}
# Named for every other database too: an env inherited from a SQLite run (the DAG tests set
# os.environ) must not hand pysqlite's `timeout` to psycopg2, which refuses it.
NO_CONNECT_ARGS: dict = {}


def database_env(conn: str) -> dict[str, str]:
    """The [database] options `conn` needs beyond the URL itself."""
    args = "SQLITE_CONNECT_ARGS" if conn.startswith("sqlite") else "NO_CONNECT_ARGS"
    env = {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS": f"{__name__}.{args}"}
    if conn.startswith("postgresql"):
        # Airflow derives its async URL with asyncpg, which is not installed; psycopg 3 is
        # async too.
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"] = (
            f"postgresql+psycopg:{conn.split(':', 1)[1]}"
        )
    return env
