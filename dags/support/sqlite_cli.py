"""The `airflow` CLI with every SQLite transaction begun IMMEDIATE (SQLAlchemy's pysqlite recipe).

A deferred transaction reads first and asks for the write lock later; if another process wrote
in between, SQLite refuses at once ("database is locked") instead of waiting. Taking the lock
when the transaction begins makes it wait up to the busy timeout. Only `engageflow airflow
backfill create` runs this way (dags/support/auth.py): the long-running components keep
SQLite's deferred transactions, which let readers overlap.
"""

from __future__ import annotations

import sqlite3
import sys

from sqlalchemy import event
from sqlalchemy.engine import Engine


def _no_implicit_begin(dbapi_connection: object, _record: object) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = None  # pysqlite stops emitting its own BEGIN


def _begin_immediate(connection) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def main() -> None:
    event.listen(Engine, "connect", _no_implicit_begin)
    event.listen(Engine, "begin", _begin_immediate)
    from airflow.__main__ import main as airflow_main

    sys.argv = ["airflow", *sys.argv[1:]]
    airflow_main()


if __name__ == "__main__":
    main()
