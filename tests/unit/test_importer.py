"""Real-log import: mapping, pseudonymization at the edge, and errors that lose nothing."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from pydantic import SecretStr

from engageflow.importer import ColumnMapping, ImportInputError, import_events
from engageflow.settings import ImporterConfig, Settings
from expectations.gate import QualityGateFailed
from expectations.ingest import ingest_events

RAW_USER = "alice.smith@example.com"
EVENT_LOG = f"""uid,content,when,action,secs,email
{RAW_USER},i1,2026-02-01T10:00:00Z,view,,{RAW_USER}
{RAW_USER},i1,2026-02-01T10:00:05Z,click,42.5,{RAW_USER}
bob-1977,i2,2026-02-01T23:59:59Z,view,,bob@example.org
bob-1977,i2,2026-02-02T00:00:01Z,dismiss,,bob@example.org
"""
EVENTS = ColumnMapping(user="uid", item="content", timestamp="when", event="action", dwell="secs")


def _write(tmp_path: Path, text: str, name: str = "log.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _landed(settings: Settings) -> list[Path]:
    return sorted((settings.root / "landing").rglob("*.parquet"))


def test_event_log_lands_per_day_with_pseudonymous_users(
    settings: Settings, tmp_path: Path
) -> None:
    done = import_events(settings, _write(tmp_path, EVENT_LOG), EVENTS)
    assert (done.rows, done.events) == (4, 4)
    assert [p.parent.name for p in done.files] == ["date=2026-02-01", "date=2026-02-02"]
    events = pd.concat(pd.read_parquet(p) for p in done.files)
    assert list(events["event_type"]) == ["impression", "click", "impression", "hide"]
    assert events["dwell_seconds"].tolist()[1] == 42.5
    assert events["user_id"].str.startswith("p_").all()
    assert events["user_id"].nunique() == 2
    assert str(events["ts"].dtype) == "datetime64[us, UTC]"


def test_no_raw_identifier_reaches_storage(settings: Settings, tmp_path: Path) -> None:
    from datetime import date

    import_events(settings, _write(tmp_path, EVENT_LOG), EVENTS)
    ingest_events(settings, date(2026, 2, 1))
    stored = [p for p in settings.root.rglob("*") if p.is_file() and "secrets" not in p.parts]
    assert any("lake" in p.parts for p in stored)
    for path in stored:
        blob = path.read_bytes()
        for raw in (RAW_USER, "alice", "bob-1977", "bob@example.org"):
            assert raw.encode() not in blob, f"{raw} found in {path}"


def test_pseudonyms_are_keyed(settings: Settings, tmp_path: Path) -> None:
    source = _write(tmp_path, EVENT_LOG)
    first = pd.read_parquet(import_events(settings, source, EVENTS).files[0])["user_id"]
    rotated = settings.model_copy(update={"pseudonym_key": SecretStr("another-key")})
    second = pd.read_parquet(import_events(rotated, source, EVENTS).files[0])["user_id"]
    assert set(first).isdisjoint(second)


def test_ratings_become_impressions_clicks_likes_and_hides(
    settings: Settings, tmp_path: Path
) -> None:
    text = "user,movie,epoch,stars\n1,m1,1767225600,5\n1,m2,1767225601,1\n2,m1,1767225602,3\n"
    mapping = ColumnMapping(user="user", item="movie", timestamp="epoch", rating="stars")
    done = import_events(settings, _write(tmp_path, text), mapping)
    events = pd.read_parquet(done.files[0])
    counts = events["event_type"].value_counts().to_dict()
    assert counts == {"impression": 3, "click": 3, "like": 1, "hide": 1}
    assert events["ts"].min() == pd.Timestamp("2026-01-01T00:00:00Z")


def test_reimport_replaces_its_own_files_only(settings: Settings, tmp_path: Path) -> None:
    source = _write(tmp_path, EVENT_LOG)
    import_events(settings, source, EVENTS)
    first = _landed(settings)
    import_events(settings, source, EVENTS)
    assert _landed(settings) == first
    other = _write(tmp_path, EVENT_LOG.replace("i1", "i9"), "other.csv")
    import_events(settings, other, EVENTS)
    assert len(_landed(settings)) == len(first) + 2


BAD_INPUTS = [
    ("missing column", EVENT_LOG.replace("content", "contents"), r"\['content'\] not found"),
    (
        "bad timestamp",
        EVENT_LOG.replace("2026-02-01T10:00:05Z", "yesterday"),
        r"row 3, column 'when': not a timestamp",
    ),
    ("unknown event", EVENT_LOG.replace("dismiss", "wink"), r"row 5, column 'action'.*'wink'"),
    ("bad dwell", EVENT_LOG.replace("42.5", "long"), r"row 3, column 'secs': not a number"),
    (
        "empty user",
        EVENT_LOG.replace("bob-1977,i2,2026-02-02", ",i2,2026-02-02"),
        r"row 5, column 'uid': identifier is empty",
    ),
    ("header only", "uid,content,when,action,secs\n", "no rows"),
    ("zero bytes", "", r"empty \(0 bytes\)"),
    ("row longer than header", EVENT_LOG.replace(",view,,", ",view,,,"), "more fields than"),
    ("one row longer", EVENT_LOG.replace("dismiss,,", "dismiss,,,"), "Expected 6 fields in line 5"),
]


@pytest.mark.parametrize(
    ("text", "message"), [c[1:] for c in BAD_INPUTS], ids=[c[0] for c in BAD_INPUTS]
)
def test_bad_input_is_named_and_nothing_landed_is_touched(
    settings: Settings, tmp_path: Path, text: str, message: str
) -> None:
    import_events(settings, _write(tmp_path, EVENT_LOG, "good.csv"), EVENTS)
    before = {p: p.read_bytes() for p in _landed(settings)}
    bad = _write(tmp_path, text, "bad.csv")
    with pytest.raises(ImportInputError, match=message) as error:
        import_events(settings, bad, EVENTS)
    assert "bad.csv" in str(error.value)
    assert {p: p.read_bytes() for p in _landed(settings)} == before


def test_wrong_encoding_is_named(settings: Settings, tmp_path: Path) -> None:
    latin = _write(tmp_path, EVENT_LOG.replace("i1", "café"), encoding="latin-1")
    with pytest.raises(ImportInputError, match=r"not UTF-8.*iconv"):
        import_events(settings, latin, EVENTS)
    assert _landed(settings) == []


def test_parquet_sources_work_too(settings: Settings, tmp_path: Path) -> None:
    frame = pd.read_csv(_write(tmp_path, EVENT_LOG))
    source = tmp_path / "log.parquet"
    frame.to_parquet(source)
    done = import_events(settings, source, EVENTS)
    assert done.events == 4


def test_generated_key_file_is_private_and_stable(settings: Settings) -> None:
    from engageflow.pseudonym import load_key

    key = load_key(settings)
    assert settings.key_file.stat().st_mode & 0o777 == 0o600
    assert load_key(settings) == key and len(key) == 64


# Found by an outside battery of malformed logs: each was a traceback or a silent acceptance.
NOW = pd.Timestamp("2026-03-01T12:00:00Z")


def _refused(settings: Settings, path: Path, message: str, **kwargs: object) -> None:
    with pytest.raises(ImportInputError, match=message) as error:
        import_events(settings, path, EVENTS, now=NOW, **kwargs)
    assert str(path) in str(error.value)
    assert _landed(settings) == []
    assert not settings.key_file.exists()  # no key is made for a refused file


def test_zero_byte_file_is_refused_not_a_traceback(settings: Settings, tmp_path: Path) -> None:
    _refused(settings, _write(tmp_path, ""), r"the file is empty \(0 bytes\)")
    _refused(settings, _write(tmp_path, "", "log.parquet"), r"the file is empty \(0 bytes\)")


def test_negative_dwell_next_to_blank_dwells_is_named(settings: Settings, tmp_path: Path) -> None:
    text = EVENT_LOG.replace(
        "bob-1977,i2,2026-02-01T23:59:59Z,view,", "b,i2,2026-02-01T23:59Z,view,-3"
    )
    _refused(settings, _write(tmp_path, text), r"row 4, column 'secs': dwell is negative")


def test_time_in_the_future_is_refused_beyond_the_tolerance(
    settings: Settings, tmp_path: Path
) -> None:
    far = EVENT_LOG.replace("2026-02-02T00:00:01Z", "2099-02-02T00:00:01Z")
    _refused(settings, _write(tmp_path, far), r"row 5, column 'when': time is in the future")
    soon = EVENT_LOG.replace("2026-02-02T00:00:01Z", "2026-03-02T11:00:00Z")  # 23 h ahead
    assert import_events(settings, _write(tmp_path, soon, "soon.csv"), EVENTS, now=NOW).rows == 4
    strict = settings.model_copy(update={"importer": ImporterConfig(future_tolerance="PT1H")})
    with pytest.raises(ImportInputError, match="future_tolerance"):
        import_events(strict, _write(tmp_path, soon, "soon.csv"), EVENTS, now=NOW)


def test_time_without_zone_needs_a_timezone(settings: Settings, tmp_path: Path) -> None:
    from engageflow.importer import parse_zone

    bare = EVENT_LOG.replace("2026-02-01T10:00:05Z", "2026-02-01 10:00:05")
    _refused(
        settings, _write(tmp_path, bare), r"row 3, column 'when': time has no zone; pass --timezone"
    )
    done = import_events(settings, _write(tmp_path, bare), EVENTS, parse_zone("Europe/Berlin"))
    events = pd.concat(pd.read_parquet(p) for p in done.files)
    clicks = events.loc[events["event_type"] == "click", "ts"]
    assert clicks.tolist() == [pd.Timestamp("2026-02-01T09:00:05Z")]  # CET is UTC+1
    with pytest.raises(ImportInputError, match="not an IANA time zone"):
        parse_zone("Mars/Olympus")


def test_wall_time_skipped_by_a_dst_change_is_refused(settings: Settings, tmp_path: Path) -> None:
    from engageflow.importer import parse_zone

    gap = EVENT_LOG.replace("2026-02-01T10:00:05Z", "2026-03-29T02:30:00")
    _refused(
        settings, _write(tmp_path, gap), r"row 3.*daylight-saving", zone=parse_zone("Europe/Berlin")
    )


def test_blank_rows_are_skipped_counted_and_keep_row_numbers(
    settings: Settings, tmp_path: Path
) -> None:
    lines = EVENT_LOG.splitlines()
    text = "\n".join([*lines[:2], "", *lines[2:]]) + "\n\n"
    done = import_events(settings, _write(tmp_path, text), EVENTS, now=NOW)
    assert (done.rows, done.blank, done.events) == (6, 2, 4)
    bad = _write(tmp_path, text.replace("dismiss", "wink"), "bad.csv")
    with pytest.raises(ImportInputError, match=r"row 6, column 'action'"):  # true line number
        import_events(settings, bad, EVENTS, now=NOW)


def test_a_mapped_column_named_twice_in_the_header_is_refused(
    settings: Settings, tmp_path: Path
) -> None:
    twice = EVENT_LOG.replace(
        "uid,content,when,action,secs,email", "uid,content,when,action,secs,uid"
    )
    _refused(settings, _write(tmp_path, twice), r"\['uid'\] appear more than once")


def test_cli_exits_2_with_the_reason_and_checks_the_timezone(
    settings: Settings, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from engageflow.app.cli import app

    source = _write(tmp_path, EVENT_LOG.replace("2026-02-01T10:00:05Z", "2026-02-01 10:00:05"))
    args = ["import-events", str(source), "--user", "uid", "--item", "content", "--timestamp"]
    args += ["when", "--event", "action", "--dwell", "secs"]
    runner = CliRunner()
    refused = runner.invoke(app, args)
    assert refused.exit_code == 2, refused.output
    assert isinstance(refused.exception, SystemExit)  # typer.Exit, not a traceback
    assert "row 3, column 'when'" in refused.stdout and "--timezone" in refused.stdout
    assert not (settings.root / "landing").exists()
    assert runner.invoke(app, [*args, "--timezone", "Nowhere/Land"]).exit_code == 2
    assert runner.invoke(app, [*args, "--timezone", "UTC"]).exit_code == 0
    assert runner.invoke(app, [*args, "--event-value", "wink"]).exit_code == 2


def test_a_refused_write_lands_nothing_and_the_cli_says_where(
    settings: Settings, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from engageflow.app.cli import app

    blocked = settings.root / "landing" / "events" / "date=2026-02-02"
    blocked.parent.mkdir(parents=True)
    blocked.write_text("a file where the second day's folder should be")
    args = ["import-events", str(_write(tmp_path, EVENT_LOG)), "--user", "uid", "--item"]
    args += ["content", "--timestamp", "when", "--event", "action", "--dwell", "secs"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # typer.Exit, not a traceback
    assert "date=2026-02-02" in result.stdout and "Nothing was written" in result.stdout
    assert _landed(settings) == []  # the first day, written before the refusal, is gone too
    blocked.unlink()
    assert CliRunner().invoke(app, args).exit_code == 0
    assert [p.parent.name for p in _landed(settings)] == ["date=2026-02-01", "date=2026-02-02"]


def test_quiet_days_inside_a_log_land_empty_and_a_long_gap_is_left_and_said(
    settings: Settings, tmp_path: Path
) -> None:
    from datetime import date

    settings.importer.max_quiet_days = 3
    log = "uid,content,when,action\n" + "".join(
        f"u1,i1,{day}T10:00:00Z,view\n" for day in ("2026-01-01", "2026-01-04", "2026-01-20")
    )
    done = import_events(
        settings, _write(tmp_path, log), ColumnMapping("uid", "content", "when", "action")
    )
    landed = [date.fromisoformat(p.parent.name.removeprefix("date=")) for p in done.files]
    assert landed == [date(2026, 1, d) for d in (1, 2, 3, 4, 20)]  # 2 and 3 quiet, 5..19 not
    assert [len(pd.read_parquet(p)) for p in done.files] == [1, 0, 0, 1, 1]
    assert done.unlanded_days == 15
    assert ingest_events(settings, date(2026, 1, 2)).rows == 0  # a valid, empty day


def test_an_imported_days_volume_is_not_held_against_recent_days(
    settings: Settings, tmp_path: Path
) -> None:
    from datetime import date

    busy = "".join(f"u{n},i1,2026-01-0{d}T10:00:00Z,view\n" for d in (1, 2, 3) for n in range(50))
    log = "uid,content,when,action\n" + busy + "u1,i1,2026-01-04T10:00:00Z,view\n"
    import_events(
        settings, _write(tmp_path, log), ColumnMapping("uid", "content", "when", "action")
    )
    assert [ingest_events(settings, date(2026, 1, d)).rows for d in (1, 2, 3, 4)] == [50, 50, 50, 1]
    # The same day dropped by hand (not an import) is a partial landing to the gate.
    dropped = settings.root / "landing" / "events" / "date=2026-01-04"
    landed = next(dropped.glob("imp*.parquet"))
    landed.rename(dropped / "feed.parquet")
    with pytest.raises(QualityGateFailed, match="expect_table_row_count_to_be_between"):
        ingest_events(settings, date(2026, 1, 4))
