"""Write a benchmark's results as a Markdown table in docs/benchmarks/, with how it was made."""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent.parent / "docs" / "benchmarks"


def machine() -> str:
    system = f"{platform.system()} {platform.machine()}"
    return f"{system}, {os.cpu_count()} cores, Python {platform.python_version()}"


def write_results(
    name: str,
    title: str,
    command: str,
    header: Sequence[str],
    rows: Sequence[Sequence[object]],
    notes: str = "",
) -> Path:
    """Replace docs/benchmarks/<name>.md with a table of `rows` and the command that made it."""
    lines = [
        f"# {title}",
        "",
        f"Produced by `{command}` on {datetime.now(UTC):%Y-%m-%d} ({machine()}).",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
        *("| " + " | ".join(str(v) for v in row) + " |" for row in rows),
    ]
    if notes:
        lines += ["", notes.strip()]
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.md"
    path.write_text("\n".join(lines) + "\n")
    return path
