"""Errors that say who can fix a failure: bad data needs a person (DAG tasks fail at once), a
refused write needs the disk or permissions fixed (DAG tasks retry)."""

from __future__ import annotations


class DataError(Exception):
    """Bad or missing input; the message says what was wrong, where, and what to do."""


class StorageError(OSError):
    """The data dir refused a write (full, read-only, not a directory): infrastructure, so DAG
    tasks retry it; the message names the path, the cause and that nothing was half-written."""

    @classmethod
    def writing(cls, path: object, cause: OSError) -> StorageError:
        message = (
            f"cannot write {path}: {cause.strerror or cause}. Nothing was written there (a "
            "previous version, if any, is intact). Free space or make the data dir writable, "
            "then rerun."
        )
        return cls(cause.errno, message) if cause.errno else cls(message)
