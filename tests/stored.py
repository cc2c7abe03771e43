"""What a data dir holds, byte for byte: to show that a refused input changed nothing stored."""

from __future__ import annotations

import hashlib
from pathlib import Path


def tree(root: Path, skip: str | None = None) -> dict[str, str]:
    """Every file under `root` (hidden ones too) with its digest; `skip`: a folder name left
    out, e.g. "quarantine", where a refusal leaves its report."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and (skip is None or skip not in p.relative_to(root).parts)
    }
