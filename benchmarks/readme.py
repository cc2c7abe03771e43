"""README's results tables, generated from the measured ones in docs/benchmarks/.

python -m benchmarks.readme   # rewrites the generated blocks of README.md

A block sits between `<!-- benchmarks.readme: NAME -->` and `<!-- /benchmarks.readme -->`; its
table takes chosen rows of docs/benchmarks/NAME.md, so a new benchmark run changes the README by
rerunning this, and tests/unit/test_readme_benchmarks.py fails while the two disagree.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from benchmarks.report import RESULTS_DIR

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCK = re.compile(
    r"(<!-- benchmarks\.readme: (?P<name>\w+) -->\n)(?P<body>.*?)(<!-- /benchmarks\.readme -->)",
    re.DOTALL,
)
Table = dict[tuple[str, ...], dict[str, str]]


def results_table(text: str, key_columns: int = 2) -> Table:
    """The first table of a results page, by its first `key_columns` cells."""
    lines = [line for line in text.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    table = {}
    for line in lines[2:]:
        if line.startswith("|---"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) != len(header) or cells == header:
            break  # the next table
        table[tuple(cells[:key_columns])] = dict(zip(header, cells, strict=True))
    return table


def _ms(value: str) -> str:
    return f"{value} ms"


def serving(page: str) -> str:
    """The README's /rank table: chosen rows of docs/benchmarks/serving.md."""
    table = results_table(page)
    chosen = [
        ("`/rank`, 1 worker, 50 req/s offered", ("/rank, 1 worker(s)", "50")),
        ("`/rank`, 2 workers, 300 req/s offered", ("/rank, 2 worker(s)", "300")),
        ("`/rank`, 1 worker, one request at a time", ("/rank, 1 worker(s)", "sequential")),
        (
            "Feast's HTTP feature server (`feast serve`), the same 100 features only, "
            "one at a time",
            ("Feast HTTP server (`feast serve`, features only), 1 worker", "sequential"),
        ),
        ("in-process feature read + predict", ("in-process read + predict", "sequential")),
    ]
    lines = ["| | p50 | p99 | throughput |", "|---|---|---|---|"]
    for label, key in chosen:
        row = table[key]
        rate = row["achieved req/s"]
        throughput = "-" if rate == "-" else f"{rate} req/s"
        lines.append(f"| {label} | {_ms(row['p50 ms'])} | {_ms(row['p99 ms'])} | {throughput} |")
    return "\n".join(lines) + "\n"


AB_WORLD = "default (20,000 users, 5,000 req/day, canary 10%)"


def ab_readout(page: str) -> str:
    """The README's A/B table: the default world's rows of docs/benchmarks/ab_readout.md."""
    table = results_table(page, key_columns=3)
    lines = [
        "| true lift | readout | promote | roll back | median days to decision |",
        "|---|---|---|---|---|",
    ]
    for lift in ("+0%", "+10%", "-10%"):
        for readout in ("mSPRT (ours)", "daily Welch (before)"):
            row = table[(AB_WORLD, lift, readout)]
            lines.append(
                f"| {lift} | {readout} | {row['promote']} | {row['roll back']} | "
                f"{row['median days to decision']} |"
            )
    return "\n".join(lines) + "\n"


def drift(page: str) -> str:
    """The README's drift table: docs/benchmarks/drift.md's table as it is."""
    lines = [line for line in page.splitlines() if line.startswith("|")]
    return "\n".join(lines) + "\n"


BLOCKS: dict[str, Callable[[str], str]] = {
    "serving": serving,
    "ab_readout": ab_readout,
    "drift": drift,
}


def render(readme: str, results_dir: Path = RESULTS_DIR) -> str:
    """`readme` with every generated block rebuilt from `results_dir`."""

    def rebuilt(match: re.Match) -> str:
        name = match["name"]
        page = (results_dir / f"{name}.md").read_text()
        return match.group(1) + BLOCKS[name](page) + match.group(4)

    return BLOCK.sub(rebuilt, readme)


def main() -> None:
    text = README.read_text()
    README.write_text(render(text))
    print(f"{README}: {len(BLOCK.findall(text))} generated block(s) rewritten")


if __name__ == "__main__":
    main()
