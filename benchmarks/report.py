"""Write a benchmark's results as a Markdown table in docs/benchmarks/, with how it was made."""

from __future__ import annotations

import os
import platform
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from engageflow.processes import usable_cores

RESULTS_DIR = Path(__file__).resolve().parent.parent / "docs" / "benchmarks"


def cores() -> int:
    """The cores this process may run on (its CPU affinity; a container may get fewer than the
    machine has)."""
    return usable_cores()


def load_average() -> float:
    """The machine's 1-minute load average: above cores(), other work queued for the cores."""
    return os.getloadavg()[0]


class LoadSampler:
    """The 1-minute load average sampled every `every` seconds while a measurement runs (a
    context manager): `span` is "low-high" over the samples, for a table's row."""

    def __init__(self, every: float = 2.0) -> None:
        self.every, self.samples = every, [load_average()]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="load-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.samples.append(load_average())

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append(load_average())

    @property
    def high(self) -> float:
        return max(self.samples)

    @property
    def span(self) -> str:
        return f"{min(self.samples):.1f}-{max(self.samples):.1f}"


def machine() -> str:
    system = f"{platform.system()} {platform.machine()}"
    return f"{system}, {cores()} cores, Python {platform.python_version()}"


def machine_note(load_before: float | None) -> str:
    """The measured cores and load, for a table's notes: the numbers depend on both."""
    now = load_average()
    load = (
        f"{load_before:.1f} at the start, {now:.1f} at the end"
        if load_before is not None
        else f"{now:.1f}"
    )
    busy = max(now, load_before or 0.0) > cores()
    shared = "other work shared the cores" if busy else "the cores were not oversubscribed"
    above = "above" if busy else "at most"
    return (
        f"Measured on {cores()} cores; 1-minute load average {load} ({above} {cores()}, {shared})."
    )


def write_results(
    name: str,
    title: str,
    command: str,
    header: Sequence[str],
    rows: Sequence[Sequence[object]],
    notes: str = "",
    load_before: float | None = None,
) -> Path:
    """Replace docs/benchmarks/<name>.md with a table of `rows` and the command that made it;
    the notes end with the cores and load average (`load_before`: at the benchmark's start)."""
    lines = [
        f"# {title}",
        "",
        f"Produced by `{command}` on {datetime.now(UTC):%Y-%m-%d} ({machine()}).",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
        *("| " + " | ".join(str(v) for v in row) + " |" for row in rows),
    ]
    lines += ["", *([notes.strip(), ""] if notes else []), machine_note(load_before)]
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.md"
    path.write_text("\n".join(lines) + "\n")
    return path
