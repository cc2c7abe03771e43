"""README's results tables are generated from docs/benchmarks/ (`python -m benchmarks.readme`):
this fails while they disagree, e.g. after a benchmark rewrote its page."""

from __future__ import annotations

import shutil

from benchmarks.readme import BLOCK, BLOCKS, README, render, results_table
from benchmarks.report import RESULTS_DIR


def test_readme_tables_equal_the_measured_ones() -> None:
    text = README.read_text()
    assert {m["name"] for m in BLOCK.finditer(text)} == set(BLOCKS)
    assert render(text) == text, "README is stale: run `python -m benchmarks.readme`"


def test_a_new_measurement_changes_the_readme(tmp_path) -> None:
    for name in BLOCKS:
        shutil.copy(RESULTS_DIR / f"{name}.md", tmp_path / f"{name}.md")
    page = tmp_path / "serving.md"
    lines = page.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("| /rank, 2 worker(s) | 300 |"))
    cells = lines[at].split("|")
    cells[3:7] = [" 290 ", " 3.2 ", " 5.3 ", " 9.9 "]  # achieved, p50, p95, p99
    lines[at] = "|".join(cells)
    page.write_text("\n".join(lines) + "\n")
    assert results_table(page.read_text())[("/rank, 2 worker(s)", "300")]["p99 ms"] == "9.9"
    rendered = render(README.read_text(), tmp_path)
    assert "| `/rank`, 2 workers, 300 req/s offered | 3.2 ms | 9.9 ms | 290 req/s |" in rendered
