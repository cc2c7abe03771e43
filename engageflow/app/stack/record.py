"""`<data_dir>/stack/stack.json`: what `up` started, so `down` stops exactly that."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

from engageflow.app.stack.services import stack_dir
from engageflow.processes import same_process
from engageflow.settings import Settings


@dataclass(frozen=True)
class Record:
    """One started process group: pid and create time identify the leader across pid reuse."""

    name: str
    pid: int
    pgid: int
    create_time: float
    argv: list[str]
    url: str
    log: str

    def leader(self) -> psutil.Process | None:
        """The recorded leader if it still runs (not a newer process with a reused pid)."""
        return same_process(self.pid, self.create_time)


def record_file(settings: Settings) -> Path:
    return stack_dir(settings) / "stack.json"


def load(settings: Settings) -> dict[str, Record]:
    path = record_file(settings)
    if not path.exists():
        return {}
    try:
        raw = json.loads(path.read_text())["services"]
        return {name: Record(name=name, **fields) for name, fields in raw.items()}
    except (ValueError, KeyError, TypeError) as err:
        raise ValueError(
            f"{path} is not a stack record ({err}); stop its processes by hand, then delete it"
        ) from err


def save(settings: Settings, records: dict[str, Record]) -> None:
    """Write the record atomically (temp file, then rename): never a half-written file."""
    path = record_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {
        name: {k: v for k, v in asdict(r).items() if k != "name"} for name, r in records.items()
    }
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"services": body}, indent=2) + "\n")
    os.replace(tmp, path)
