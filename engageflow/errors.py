"""Errors about the data itself: a retry cannot fix them, a person must (so DAGs fail at once)."""


class DataError(Exception):
    """Bad or missing input; the message says what was wrong, where, and what to do."""
