"""Data in: simulate days, import real logs, ingest and backfill days, summarise the lake."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from engageflow.app.cli.common import Day, Through, console, day_range, parse_day, progress
from engageflow.settings import get_settings

app = typer.Typer()

Timezone = Annotated[
    str | None, typer.Option(help="IANA zone of times written without one, e.g. Europe/Berlin")
]


@app.command()
def simulate(
    days: Annotated[int, typer.Option(min=1, help="how many consecutive days")] = 3,
    seed: Annotated[int | None, typer.Option(help="random seed (default: settings)")] = None,
    start: Annotated[str | None, typer.Option(help="first day (default: settings)")] = None,
    requests: Annotated[int | None, typer.Option(min=1, help="requests per day")] = None,
    policy: Annotated[
        str, typer.Option(help="random, service (settings.serving), or a service URL")
    ] = "random",
) -> None:
    """Simulate days of the engagement loop into the landing zone (events, catalog, truth)."""
    from engageflow.app.simulate import simulate as run
    from engageflow.app.simulate import slate_policy
    from engageflow.errors import DataError

    overrides: dict = {}
    if seed is not None:
        overrides["seed"] = seed
    if requests is not None:
        overrides["simulation"] = {"requests_per_day": requests}
    settings = get_settings(**overrides)
    try:
        chosen = slate_policy(settings, policy)
    except ValueError as err:
        raise typer.BadParameter(str(err), param_hint="--policy") from None
    except RuntimeError as err:  # serving.http_policy.ServiceUnavailable: says what to start
        console.print(f"[red]cannot simulate:[/red] {err}")
        raise typer.Exit(1) from err
    first = parse_day(start, "--start") if start else None
    try:
        with progress() as bar:
            task = bar.add_task("simulating", total=days)
            for done in run(settings, days, chosen, first):
                bar.advance(task)
                console.print(f"{done.day}: {done.rows:,} events -> {done.events.parent}")
    except DataError as err:  # e.g. retention on and the day before not simulated yet
        console.print(f"[red]simulation stopped:[/red] {err}")
        raise typer.Exit(2) from err


@app.command("import-events")
def import_events(
    source: Annotated[Path, typer.Argument(help="CSV or Parquet file of interaction logs")],
    user: Annotated[str, typer.Option(help="column holding the user id")],
    item: Annotated[str, typer.Option(help="column holding the item id")],
    timestamp: Annotated[str, typer.Option(help="column holding the time (ISO 8601 or epoch)")],
    event: Annotated[str | None, typer.Option(help="column holding the event type")] = None,
    rating: Annotated[str | None, typer.Option(help="column holding a rating")] = None,
    dwell: Annotated[str | None, typer.Option(help="column holding dwell seconds")] = None,
    request: Annotated[str | None, typer.Option(help="column holding a request/session id")] = None,
    device: Annotated[str | None, typer.Option(help="column holding the device")] = None,
    event_value: Annotated[
        list[str] | None, typer.Option(help="map a source event value: SRC=TYPE (repeatable)")
    ] = None,
    timezone: Timezone = None,
) -> None:
    """Import real logs into the landing zone; users are pseudonymized before storage."""
    from engageflow.importer import ColumnMapping
    from engageflow.importer import import_events as run

    pairs = {}
    for value in event_value or []:
        src, sep, kind = value.partition("=")
        if not sep or not src.strip():
            message = f"{value!r} is not SRC=TYPE, e.g. dismiss=hide"
            raise typer.BadParameter(message, param_hint="--event-value")
        pairs[src] = kind
    mapping = ColumnMapping(user, item, timestamp, event, rating, dwell, request, device, pairs)
    zone = _zone(timezone)
    with import_failures():
        done = run(get_settings(), source, mapping, zone)
    console.print(f"imported {done.rows - done.blank:,} rows as {done.events:,} events into:")
    for path in done.files:
        console.print(f"  {path}")
    if done.blank:
        console.print(f"skipped {done.blank:,} blank row(s) (every mapped cell empty)")
    if done.unlanded_days:
        console.print(
            f"[yellow]{done.unlanded_days:,} day(s) in gaps longer than "
            "importer.max_quiet_days were not landed[/yellow]: such days cannot be ingested "
            "or trained across; import the missing events, or start the backfill after the gap"
        )


@app.command("import-items")
def import_items(
    source: Annotated[Path, typer.Argument(help="CSV or Parquet file, one row per item")],
    item: Annotated[str, typer.Option(help="column holding the item id")],
    created_at: Annotated[
        str | None, typer.Option(help="column holding when the item appeared (default: events)")
    ] = None,
    topic: Annotated[str | None, typer.Option(help="column holding the topic")] = None,
    topic_separator: Annotated[
        str | None, typer.Option(help="separator of several topics; the first is used")
    ] = None,
    creator: Annotated[str | None, typer.Option(help="column holding the creator id")] = None,
    sensationalism: Annotated[
        str | None, typer.Option(help="column holding headline sensationalism, 0..1")
    ] = None,
    production: Annotated[str | None, typer.Option(help="column holding production score")] = None,
    duration: Annotated[str | None, typer.Option(help="column holding duration seconds")] = None,
    day: Annotated[str | None, typer.Option(help="first day (default: landed events')")] = None,
    through: Through = None,
    timezone: Timezone = None,
) -> None:
    """Land one catalog file as a snapshot per day: the items created by each day's end."""
    from engageflow.importer import CatalogMapping
    from engageflow.importer import import_items as run

    mapping = CatalogMapping(
        item, created_at, topic, topic_separator, creator, sensationalism, production, duration
    )
    zone = _zone(timezone)
    days = day_range(day, through) if day else None
    with import_failures():
        done = run(get_settings(), source, mapping, days, zone)
    console.print(
        f"landed {done.items:,} items as {len(done.days)} daily snapshot(s), "
        f"{done.days[0]}..{done.days[-1]}, under {get_settings().root / 'landing' / 'items'}"
    )
    if not created_at:
        console.print(f"{done.dated_by_events:,} item(s) dated by their first landed event")


@app.command("import-users")
def import_users(
    source: Annotated[Path, typer.Argument(help="CSV or Parquet file, one row per user")],
    user: Annotated[str, typer.Option(help="column holding the user id (pseudonymized)")],
    age: Annotated[
        str | None, typer.Option(help="column holding an age in years or a birth date (banded)")
    ] = None,
    region: Annotated[
        str | None, typer.Option(help="column holding a coarse region (rare ones pooled)")
    ] = None,
    signup_at: Annotated[
        str | None, typer.Option(help="column holding when the user signed up (kept as a day)")
    ] = None,
    interests: Annotated[
        str | None, typer.Option(help="column holding declared topics (names or codes)")
    ] = None,
    interest_separator: Annotated[
        str | None, typer.Option(help="separator of several declared topics")
    ] = None,
    day: Annotated[
        str | None, typer.Option(help="the snapshot's day (default: first landed events day)")
    ] = None,
    timezone: Timezone = None,
) -> None:
    """Land a user table's coarse attributes (age band, region, signup day, declared topics);
    direct identifiers are refused."""
    from engageflow.importer import UserMapping
    from engageflow.importer import import_users as run

    mapping = UserMapping(user, age, region, signup_at, interests, interest_separator)
    zone = _zone(timezone)
    snapshot_day = parse_day(day, "--day") if day else None
    with import_failures():
        done = run(get_settings(), source, mapping, snapshot_day, zone)
    console.print(f"landed {done.users:,} users' attributes for {done.day} -> {done.file}")
    if done.pooled_regions:
        console.print(
            f"{done.pooled_regions:,} user(s) in regions of fewer than "
            f"importer.min_region_users users: pooled as one region"
        )


def _zone(timezone: str | None):
    """The --timezone option as a zone (None when not given), or a usage error."""
    from engageflow.importer import ImportInputError, parse_zone

    try:
        return parse_zone(timezone) if timezone is not None else None
    except ImportInputError as err:
        raise typer.BadParameter(str(err), param_hint="--timezone") from None


@contextmanager
def import_failures() -> Iterator[None]:
    """A refused file exits 2 (nothing written), a refused write 1, each with its message."""
    from engageflow.errors import StorageError
    from engageflow.importer import ImportInputError

    try:
        yield
    except ImportInputError as err:
        reason = escape(str(err))  # values from the file are text, not rich markup
        console.print(f"[red]import failed, nothing was written:[/red] {reason}", soft_wrap=True)
        raise typer.Exit(2) from None
    except StorageError as err:  # the data dir, not the file: exit 1, like other failures
        console.print(f"[red]import failed:[/red] {escape(str(err))}", soft_wrap=True)
        raise typer.Exit(1) from None


@app.command()
def ingest(
    day: Day,
    through: Through = None,
) -> None:
    """Move landed days into the lake (what the `ingest_events` DAG runs, without Airflow)."""
    from expectations.ingest import ingest_day

    settings = get_settings()
    for current in day_range(day, through):
        done = ingest_day(settings, current)
        console.print(f"{current}: {done.rows:,} events -> {done.path}")


@app.command()
def backfill(
    day: Day,
    through: Through = None,
) -> None:
    """Ingest landed days and build their features, in order (ingest_events + build_features)."""
    from engageflow.errors import DataError
    from feature_repo.backfill import backfill as run

    days = day_range(day, through)
    try:
        done = run(get_settings(), days)
    except DataError as err:
        console.print(f"[red]backfill stopped:[/red] {err}")
        raise typer.Exit(2) from err
    console.print(f"ingested and built features for {len(done)} day(s): {days[0]}..{days[-1]}")


@app.command()
def summary() -> None:
    """Print volume, click-through and good/bad engagement per ingested day."""
    from engageflow.summary import summarise

    frame = summarise(get_settings())
    if frame.empty:
        console.print("nothing ingested yet: run `engageflow simulate` and `engageflow ingest`")
        raise typer.Exit(1)
    table = Table(title="engagement by day (lake/events)")
    for column in frame.columns:
        if column == "day":
            table.add_column(column, no_wrap=True, min_width=10)
        else:
            table.add_column(column, justify="right")
    for row in frame.itertuples(index=False):
        table.add_row(
            str(row.day),
            *(f"{v:,}" for v in (row.events, row.impressions, row.users, row.items)),
            *(f"{v:.2%}" for v in (row.ctr, row.good_rate, row.bad_rate)),
        )
    console.print(table)
