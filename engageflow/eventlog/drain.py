"""Drain a Redis stream into the landing zone, so the daily DAGs see collected events.

Decision: a drainer, not a collector that writes both. The request path does one XADD and no
disk write, the landing files do not depend on the collector host's disk, and the drainer is
at least once without duplicates: it acknowledges an entry only after its files are renamed
into place, and a redelivered entry hashes to the file already there (LandingLog).
"""

from __future__ import annotations

from engageflow.eventlog import EventReader
from engageflow.eventlog.landing import LandingLog


def drain_once(
    reader: EventReader, landing: LandingLog, count: int = 100, block_ms: int = 0
) -> int:
    """Land up to `count` entries, then acknowledge them; the number of events landed."""
    entries = reader.read(count, block_ms)
    for entry in entries:
        landing.append(entry.events)
    reader.ack([entry.id for entry in entries])
    return sum(entry.events.num_rows for entry in entries)
