"""Keyed pseudonyms (HMAC-SHA256) for identifiers, applied at the edge before anything is stored.

The key comes from `ENGAGEFLOW_PSEUDONYM_KEY` or a key file (default
`<data_dir>/secrets/pseudonym.key`, created with mode 0600 on first use). Keep it out of git:
without it nobody can link a pseudonym back to a person; rotating it starts new pseudonyms.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets

import numpy as np

from engageflow.settings import Settings

PREFIX = "p_"
DIGEST_CHARS = 24  # 96 bits: collisions are negligible for billions of ids


def load_key(settings: Settings) -> bytes:
    """The pseudonymization key; creates a random key file when none is configured yet."""
    if settings.pseudonym_key is not None:
        return settings.pseudonym_key.get_secret_value().encode()
    path = settings.key_file
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    key = path.read_text().strip()
    if not key:
        raise ValueError(f"pseudonym key file {path} is empty; delete it or write a key into it")
    return key.encode()


def pseudonym(value: str, key: bytes) -> str:
    return PREFIX + hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:DIGEST_CHARS]


def pseudonymize(values: np.ndarray, key: bytes) -> np.ndarray:
    """Pseudonyms for an array of identifiers, hashing each distinct value once."""
    unique, inverse = np.unique(values.astype(str), return_inverse=True)
    mapped = np.array([pseudonym(v, key) for v in unique], dtype=object)
    return mapped[inverse]
