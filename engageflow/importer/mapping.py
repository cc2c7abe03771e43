"""What the user tells the importer: which source column is what, and the zone of bare times."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engageflow.errors import DataError
from engageflow.schema import EventType

EVENT_ALIASES = {
    "view": EventType.IMPRESSION,
    "impression": EventType.IMPRESSION,
    "click": EventType.CLICK,
    "open": EventType.CLICK,
    "play": EventType.CLICK,
    "like": EventType.LIKE,
    "favorite": EventType.LIKE,
    "share": EventType.SHARE,
    "hide": EventType.HIDE,
    "dismiss": EventType.HIDE,
    "report": EventType.REPORT,
    "survey": EventType.SURVEY,  # its 1-5 score comes from the dwell column (schema.py)
}


class ImportInputError(DataError, ValueError):
    """Bad input: the message names the file, the row and the column, and what to do."""


@dataclass(frozen=True)
class ColumnMapping:
    user: str
    item: str
    timestamp: str
    event: str | None = None
    rating: str | None = None
    dwell: str | None = None
    request: str | None = None
    device: str | None = None
    event_values: dict[str, str] = field(default_factory=dict)  # source value -> event type
    like_rating: float = 4.0
    hide_rating: float = 2.0

    def sources(self) -> list[str]:
        """The mapped source columns, each once, in mapping order."""
        named = [
            self.user,
            self.item,
            self.timestamp,
            self.event,
            self.rating,
            self.dwell,
            self.request,
            self.device,
        ]
        return list(dict.fromkeys(c for c in named if c is not None))


def parse_zone(name: str) -> ZoneInfo:
    """The IANA time zone `name` (e.g. `Europe/Berlin`), or an error saying what is accepted."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ImportInputError(
            f"{name!r} is not an IANA time zone; give a name like UTC, Europe/Berlin or "
            "America/New_York"
        ) from err
