"""benchmarks/report.py: every results table states the cores and load it was measured on."""

from __future__ import annotations

import os

from benchmarks import report


def test_cores_are_the_ones_this_process_may_use() -> None:
    assert report.cores() == len(os.sched_getaffinity(0)) >= 1


def test_a_table_ends_with_the_measured_cores_and_load(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(report, "RESULTS_DIR", tmp_path)
    monkeypatch.setattr(report, "cores", lambda: 3)
    monkeypatch.setattr(report, "load_average", lambda: 4.3)
    path = report.write_results("x", "X", "python -m x", ["a"], [[1]], "Notes.", load_before=0.5)
    text = path.read_text()
    assert ", 3 cores," in text.splitlines()[2]
    assert text.endswith(
        "Notes.\n\nMeasured on 3 cores; 1-minute load average 0.5 at the start, 4.3 at the end "
        "(above 3, other work shared the cores).\n"
    )
    bare = report.write_results("y", "Y", "python -m y", ["a"], [[1]]).read_text()
    assert bare.endswith(
        "| 1 |\n\nMeasured on 3 cores; 1-minute load average 4.3 (above 3, other work shared "
        "the cores).\n"
    )


def test_a_quiet_run_is_not_called_busy(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(report, "RESULTS_DIR", tmp_path)
    monkeypatch.setattr(report, "cores", lambda: 2)
    monkeypatch.setattr(report, "load_average", lambda: 1.3)
    text = report.write_results("q", "Q", "python -m q", ["a"], [[1]], load_before=0.4).read_text()
    assert text.endswith(
        "load average 0.4 at the start, 1.3 at the end (at most 2, the cores were not "
        "oversubscribed).\n"
    )
