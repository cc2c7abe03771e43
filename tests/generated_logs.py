"""Generated logs for the importer's property tests: valid logs of every mapping (any
identifiers, zoned ISO or epoch times, extra columns, blank lines) and their bytes broken."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from tempfile import TemporaryDirectory

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import strategies as st

from engageflow.importer import ColumnMapping
from engageflow.importer.mapping import EVENT_ALIASES

MAPPINGS = {
    "event": ColumnMapping("uid", "content", "when", event="action", dwell="secs"),
    "rating": ColumnMapping("uid", "content", "when", rating="action"),
    "dwell": ColumnMapping("uid", "content", "when", dwell="secs"),
}

# Identifiers and free text: any printable character, commas, quotes and newlines included.
TEXT = st.text(st.characters(exclude_categories=("Cs", "Cc")) | st.sampled_from(',"\n'))
IDS = st.text(st.characters(exclude_categories=("Cs", "Cc")) | st.sampled_from(',"\n'), min_size=1)
MOMENTS = st.datetimes(datetime(2000, 1, 1), datetime(2026, 2, 28), timezones=st.just(UTC))


@dataclass(frozen=True)
class Log:
    """A generated log: its records (None: a blank line), its header, how its times are
    written, and whether it is CSV or Parquet."""

    kind: str  # a key of MAPPINGS
    header: list[str]
    records: list[dict[str, str] | None]
    times: str  # "iso", "epoch" or "epoch_ms"
    parquet: bool
    bom: bool = False
    newline: str = "\n"

    def line(self, position: int) -> int:
        """The row number errors use for records[position] (a CSV's header is row 1)."""
        return position + (1 if self.parquet else 2)

    def data_rows(self) -> list[int]:
        return [i for i, r in enumerate(self.records) if r is not None]

    def write(self, folder: Path) -> Path:
        path = folder / ("log.parquet" if self.parquet else "log.csv")
        if self.parquet:
            cells = {c: [r[c] if r else None for r in self.records] for c in self.header}
            pq.write_table(pa.table({c: pa.array(v, pa.string()) for c, v in cells.items()}), path)
            return path
        out = io.StringIO()
        writer = csv.writer(out, lineterminator=self.newline)
        writer.writerow(self.header)
        for record in self.records:
            if record is None:
                out.write(self.newline)
            else:
                writer.writerow([record[c] for c in self.header])
        path.write_bytes(("\ufeff" if self.bom else "").encode() + out.getvalue().encode())
        return path


def time_text(moment: datetime, times: str, offset: int) -> str:
    if times == "epoch":
        return str(int(moment.timestamp()))
    if times == "epoch_ms":
        return str(int(moment.timestamp() * 1000))
    if not offset:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.astimezone(timezone(timedelta(minutes=offset))).isoformat()


def _action(kind: str, draw: st.DrawFn) -> dict[str, str]:
    amount = st.floats(0, 1e6, allow_nan=False).map(lambda v: f"{v:g}")
    if kind == "rating":
        return {"action": draw(st.integers(0, 5).map(str) | amount)}
    if kind == "dwell":
        return {"secs": draw(amount)}
    name = draw(st.sampled_from(sorted(EVENT_ALIASES)))
    cased = draw(st.sampled_from([name, name.upper(), f" {name} ", name.title()]))
    return {"action": cased, "secs": draw(st.just("") | amount)}


@st.composite
def logs(draw: st.DrawFn, parquet: bool | None = None) -> Log:
    """A valid log: any identifiers, zoned ISO or epoch times, known actions, extra unmapped
    columns in any order, blank lines anywhere."""
    kind = draw(st.sampled_from(sorted(MAPPINGS)))
    times = draw(st.sampled_from(["iso", "epoch", "epoch_ms"]))
    mapped = ["uid", "content", "when", *(["action"] if kind != "dwell" else [])]
    mapped += ["secs"] if kind in ("event", "dwell") else []
    extra = draw(st.lists(st.sampled_from(["email", "country", "notes"]), unique=True, max_size=2))
    header = draw(st.permutations(mapped + extra))
    records: list[dict[str, str] | None] = []
    for _ in range(draw(st.integers(1, 8))):
        offset = draw(st.sampled_from([0, 60, -300, 330]))
        record = {
            "uid": draw(IDS),
            "content": draw(IDS),
            "when": time_text(draw(MOMENTS), times, offset),
            **_action(kind, draw),
            **{c: draw(TEXT) for c in extra},
        }
        records.append(record)
    for _ in range(draw(st.integers(0, 2))):
        records.insert(draw(st.integers(0, len(records))), None)
    is_parquet = draw(st.booleans()) if parquet is None else parquet
    return Log(
        kind,
        header,
        records,
        times,
        is_parquet,
        bom=draw(st.booleans()),
        newline=draw(st.sampled_from(["\n", "\r\n"])),
    )


def _splice(data: bytes, at: int, piece: bytes) -> bytes:
    at = at % (len(data) + 1)
    return data[:at] + piece + data[at:]


def _edit_header(data: bytes, edit: str) -> bytes:
    header, sep, rest = data.partition(b"\n")
    names = header.split(b",")
    if edit == "drop" and len(names) > 1:
        names.pop(len(names) // 2)
    elif edit == "duplicate":
        names.append(names[0])
    return b",".join(names) + sep + rest


MUTATIONS = {
    "truncate": lambda draw, data: data[: draw(st.integers(0, len(data)))],
    "junk": lambda draw, data: _splice(data, draw(st.integers(0)), draw(st.binary(min_size=1))),
    "nul": lambda draw, data: _splice(data, draw(st.integers(0)), b"\x00"),
    "huge field": lambda draw, data: _splice(data, draw(st.integers(0)), b"x" * 200_000),
    "encoding": lambda draw, data: data.decode("utf-8", "replace").encode(
        draw(st.sampled_from(["latin-1", "cp1252", "utf-16", "utf-32", "shift_jis"])), "replace"
    ),
    "drop column": lambda draw, data: _edit_header(data, "drop"),
    "duplicate column": lambda draw, data: _edit_header(data, "duplicate"),
    "extra field": lambda draw, data: data.replace(b"\n", b",extra\n", 2),
    "header only": lambda draw, data: data.partition(b"\n")[0] + b"\n",
    "zero bytes": lambda draw, data: b"",
    "random bytes": lambda draw, data: draw(st.binary(max_size=300)),
}


@st.composite
def broken_files(draw: st.DrawFn) -> tuple[Log, bytes]:
    """A valid log's bytes put through one or two mutations (any of them may break it)."""
    log = draw(logs(parquet=draw(st.sampled_from([False, False, False, True]))))
    with TemporaryDirectory() as folder:
        data = log.write(Path(folder)).read_bytes()
    for name in draw(st.lists(st.sampled_from(sorted(MUTATIONS)), min_size=1, max_size=2)):
        data = MUTATIONS[name](draw, data)
    return log, data
