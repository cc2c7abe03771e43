"""One user table (a user per row) -> a snapshot of coarse, static attributes in
`landing/users/date=D/`: age band, region, signup day and declared topics.

Only coarse values reach storage. An age becomes a band, a birth date too. A signup time
becomes its day. A region held by fewer than `importer.min_region_users` users joins the
pooled "other" region, so a postcode is no finer than its crowd. A column that holds direct
identifiers (e-mail addresses, phone numbers, IP addresses, long ID numbers), or whose name
says it does, is refused. User ids are pseudonymized with the key the events use, so the
attributes join the events.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa

from engageflow import schema
from engageflow.importer.catalog import (
    extended_codes,
    landed_event_span,
    save_codes,
    topic_codes_file,
)
from engageflow.importer.checks import TimeRules, fail_at, timestamps
from engageflow.importer.land import land_days, source_tag
from engageflow.importer.mapping import ImportInputError
from engageflow.importer.source import read_source
from engageflow.pseudonym import load_key, pseudonymize
from engageflow.settings import Settings

OTHER_REGION = "other"
MAX_AGE = 120
# What a direct identifier looks like in a cell; coarse attributes never look like these.
IDENTIFIER_PATTERNS = {
    "an e-mail address": re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+"),
    "an IP address": re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$|^[0-9a-fA-F:]*::[0-9a-fA-F:]*$"),
    "a long ID number": re.compile(r"\d{9,}"),
    "a phone number": re.compile(r"^\+?\(?\d[\d\s().-]{6,}\d$"),
}
IDENTIFIER_NAMES = re.compile(
    r"e_?mail|phone|mobile|first_?name|last_?name|full_?name|surname|^name$|address|street|"
    r"^ip(?:_|$)|ssn|passport|national_?id|social_?security|credit_?card|iban",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class UserMapping:
    """Which user-table column is which attribute; only `user` is required."""

    user: str
    age: str | None = None  # an age in years or a birth date
    region: str | None = None
    signup_at: str | None = None
    interests: str | None = None  # topic names (or codes), several with `interest_separator`
    interest_separator: str | None = None

    def sources(self) -> list[str]:
        named = [self.user, self.age, self.region, self.signup_at, self.interests]
        return list(dict.fromkeys(c for c in named if c is not None))


@dataclass(frozen=True)
class ImportedUsers:
    """Users read, the day the snapshot landed, the file, and users whose region was pooled."""

    users: int
    day: date
    file: Path
    pooled_regions: int


def import_users(
    settings: Settings,
    path: Path,
    mapping: UserMapping,
    day: date | None = None,
    zone: ZoneInfo | None = None,
    now: pd.Timestamp | None = None,
) -> ImportedUsers:
    """Check the table, then land its snapshot on `day` (default: the first landed events day,
    so a backfill sees the attributes from the log's start; signup days keep time honest)."""
    day = day or landed_event_span(settings.root)[0]
    frame = read_source(path, mapping.sources()).frame
    for column in (mapping.region, mapping.interests):
        if column:
            refuse_identifiers(path, frame, column)
    fail_at(path, frame, frame[mapping.user].isna(), mapping.user, "user id is empty")
    fail_at(path, frame, frame[mapping.user].duplicated(), mapping.user, "user id repeated")
    now = now if now is not None else pd.Timestamp.now(tz="UTC")
    users = pd.DataFrame(index=frame.index)
    if mapping.signup_at:
        rules = TimeRules(zone, now, settings.importer.future_tolerance)
        given = frame[frame[mapping.signup_at].notna()]  # an unknown signup stays unknown
        signup = timestamps(path, given, mapping.signup_at, rules).dt.floor("D")
        users["signup_at"] = signup.reindex(frame.index)
    else:
        users["signup_at"] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[us, UTC]")
    users["age_band"] = age_bands(path, frame, mapping.age, now) if mapping.age else None
    regions: dict[str, int] | None = None
    pooled = 0
    if mapping.region:
        coarse, pooled = pooled_regions(frame[mapping.region], settings.importer.min_region_users)
        regions = extended_codes(region_codes_file(settings.root), sorted(set(coarse.dropna())))
        users["region"] = coarse.map(regions).astype("Int16")
    else:
        users["region"] = None
    topics: dict[str, int] | None = None
    if mapping.interests:
        users["declared_topics"], topics = declared_topics(settings.root, frame, mapping)
    else:
        users["declared_topics"] = None
    key = load_key(settings)  # after every check: a refused table leaves no key file behind
    users.insert(0, "user_id", pseudonymize(frame[mapping.user].str.strip().to_numpy(), key))
    table = pa.Table.from_pandas(users.reset_index(drop=True), preserve_index=False)
    table = schema.conform(table, schema.USERS, str(path))
    for where, codes in (
        (region_codes_file(settings.root), regions),
        (topic_codes_file(settings.root), topics),
    ):
        if codes:
            save_codes(where, codes)
    [file] = land_days(settings.root, "users", source_tag(path), {day: table})
    return ImportedUsers(table.num_rows, day, file, pooled)


def refuse_identifiers(path: Path, frame: pd.DataFrame, column: str) -> None:
    """Raise unless `column` holds coarse values: no direct identifier by name or by look."""
    if IDENTIFIER_NAMES.search(column):
        raise ImportInputError(
            f"{path}, column {column!r}: its name says it holds direct identifiers, which are "
            "never imported. Map a coarse attribute instead (a region, not an address)."
        )
    text = frame[column].str.strip()
    for what, pattern in IDENTIFIER_PATTERNS.items():
        looks = text.str.contains(pattern, na=False)
        fail_at(
            path,
            frame,
            looks,
            column,
            f"looks like {what}, a direct identifier; "
            "identifiers are never imported: map a coarse attribute instead",
        )


def age_bands(path: Path, frame: pd.DataFrame, column: str, now: pd.Timestamp) -> pd.Series:
    """Band numbers (1 = under 18 ... 7 = 65 and over) of ages in years or birth dates."""
    raw = frame[column].str.strip()
    numeric = pd.to_numeric(raw, errors="coerce").astype("Float64")
    years = pd.Series(numeric.to_numpy(dtype=float, na_value=np.nan), index=frame.index)
    born = pd.to_datetime(raw.where(years.isna()), utc=True, errors="coerce", format="ISO8601")
    years = years.fillna((now - born).dt.days / 365.25)
    fail_at(path, frame, raw.notna() & years.isna(), column, "not an age or a birth date")
    fail_at(path, frame, (years < 0) | (years > MAX_AGE), column, f"an age outside 0..{MAX_AGE}")
    edges = [low for low, _ in schema.AGE_BANDS[1:]]
    bands = np.searchsorted(edges, years.to_numpy(dtype=float), side="right") + 1
    return pd.Series(bands, index=frame.index, dtype="Int8").where(years.notna())


def pooled_regions(values: pd.Series, min_users: int) -> tuple[pd.Series, int]:
    """Regions held by fewer than `min_users` users become OTHER_REGION; with how many users."""
    text = values.str.strip().replace("", None)
    counts = text.map(text.value_counts())
    rare = text.notna() & (counts < min_users)
    return text.mask(rare, OTHER_REGION), int(rare.sum())


def declared_topics(
    root: Path, frame: pd.DataFrame, mapping: UserMapping
) -> tuple[pd.Series, dict[str, int] | None]:
    """Each user's declared topics as topic codes (the items' codes, so they can match), and
    the codes to save when names were given."""
    raw = frame[mapping.interests].fillna("")
    separator = mapping.interest_separator
    names = raw.str.split(separator, regex=False) if separator else raw.map(lambda v: [v])
    names = names.map(lambda parts: [p.strip() for p in parts if p.strip()])
    every = sorted({n for parts in names for n in parts})
    if all(n.isdigit() for n in every):
        return names.map(lambda parts: sorted({int(n) for n in parts}) or None), None
    codes = extended_codes(topic_codes_file(root), every)
    return names.map(lambda parts: sorted({codes[n] for n in parts}) or None), codes


def region_codes_file(root: Path) -> Path:
    return root / "landing" / "users" / "regions.json"
