"""Kill a pipeline step in a real child process in the middle of a write, deterministically.

The child (this file run as a script) wraps the writers the steps use (Parquet, XGBoost, plain
bytes) so that a write to a path matching `hang_at` puts half its bytes on disk, says so through
a marker file and then stalls; the parent waits for the marker and SIGKILLs the child: a process
that dies mid-write, at a known write, every time.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from engageflow.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]


def at(settings: Settings, data_dir: Path) -> Settings:
    """The same settings on another data dir."""
    return Settings.model_validate({**settings.model_dump(), "data_dir": data_dir})


def kill_mid_write(
    settings: Settings, step: str, hang_at: str, timeout: float = 240, **args: Any
) -> Path:
    """Run `step` in a child, SIGKILL it once it is half-way through writing `hang_at`.

    Returns the path it was writing. Fails if the child finishes or dies before that write.
    """
    marker = settings.root / f".crash-marker-{os.getpid()}-{time.monotonic_ns()}"
    order = {
        "settings": json.loads(settings.model_dump_json()),
        "step": step,
        "hang_at": hang_at,
        "marker": str(marker),
        "args": args,
    }
    child = subprocess.Popen(
        [sys.executable, __file__, json.dumps(order, default=str)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + timeout
    try:
        while not marker.exists():
            if child.poll() is not None:
                output = child.stdout.read().decode(errors="replace")[-3000:]
                raise AssertionError(f"{step} ended before writing {hang_at}:\n{output}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{step} did not reach a write to {hang_at} in {timeout} s")
            time.sleep(0.05)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    written = Path(marker.read_text())
    marker.unlink()
    return written


def run_step(settings: Settings, step: str, **args: Any) -> Any:
    """The pipeline steps the crash tests exercise, by name."""
    if step == "ingest":
        from expectations.ingest import ingest_events

        return ingest_events(settings, date.fromisoformat(args["day"]))
    if step == "features":
        from feature_repo.offline import build_offline

        return build_offline(settings, date.fromisoformat(args["day"]))
    if step == "train":
        from training.pipeline import evaluate_model, fit_model, register_model

        dataset = args["dataset"]
        model = fit_model(settings, dataset)
        evaluation = evaluate_model(settings, dataset, model)
        return register_model(settings, dataset, model, evaluation)
    raise ValueError(f"unknown step {step!r}")


def _install_hang(pattern: str, marker: Path) -> None:
    """Make writes to paths matching `pattern` stall half-way, after announcing the path."""
    from pathlib import Path as P

    import pyarrow as pa
    import pyarrow.parquet as pq
    import xgboost as xgb

    def hang(path: object, data: bytes) -> None:
        with open(path, "wb") as out:  # not Path.write_bytes: it is wrapped
            out.write(data[: len(data) // 2])
            out.flush()
            os.fsync(out.fileno())
        marker.write_text(str(path))
        time.sleep(3600)

    def matches(path: object) -> bool:
        return isinstance(path, str | os.PathLike) and fnmatch.fnmatch(str(path), pattern)

    write_table, write_bytes, save_model = pq.write_table, P.write_bytes, xgb.Booster.save_model

    def slow_write_table(table, where, *a, **kw):
        if not matches(where):
            return write_table(table, where, *a, **kw)
        sink = pa.BufferOutputStream()
        write_table(table, sink, *a, **kw)
        hang(where, sink.getvalue().to_pybytes())

    def slow_write_bytes(self, data):
        return hang(self, data) if matches(self) else write_bytes(self, data)

    def slow_save_model(self, fname):
        return (
            hang(fname, bytes(self.save_raw("json"))) if matches(fname) else save_model(self, fname)
        )

    pq.write_table = slow_write_table
    P.write_bytes = slow_write_bytes
    xgb.Booster.save_model = slow_save_model


def run_with_file_size_limit(settings: Settings, step: str, limit: int, **args: Any) -> dict:
    """Run `step` in a child whose files may not grow past `limit` bytes (RLIMIT_FSIZE: a full
    disk, even for root); returns the child's error as {"type", "message"}, or {} on success."""
    order = {"settings": json.loads(settings.model_dump_json()), "step": step, "args": args}
    order["file_size_limit"] = limit
    done = subprocess.run(
        [sys.executable, __file__, json.dumps(order, default=str)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = done.stdout.strip().splitlines()
    assert lines, done.stderr[-3000:]
    return json.loads(lines[-1])


def _child(order: dict[str, Any]) -> None:
    settings = Settings.model_validate(order["settings"])
    if "hang_at" in order:
        _install_hang(order["hang_at"], Path(order["marker"]))
        run_step(settings, order["step"], **order["args"])
        return
    import resource

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-large write fails with EFBIG instead
    limit = order["file_size_limit"]
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    try:
        run_step(settings, order["step"], **order["args"])
    except Exception as err:  # reported to the parent as it is
        print(json.dumps({"type": type(err).__name__, "message": str(err)}))
    else:
        print("{}")


if __name__ == "__main__":
    _child(json.loads(sys.argv[1]))
