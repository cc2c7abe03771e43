"""Sticky canary routing: a fixed share of users, chosen by a salted hash, sees the challenger."""

from __future__ import annotations

import hashlib

BUCKETS = 10_000


def bucket(user_id: str, salt: str) -> int:
    """The user's bucket in [0, BUCKETS): stable across requests, processes and restarts."""
    digest = hashlib.blake2b(f"{salt}:{user_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % BUCKETS


def in_canary(user_id: str, share: float, salt: str) -> bool:
    return bucket(user_id, salt) < round(share * BUCKETS)
