"""The simulator's long-term laws (simulation.retention): return rates with memory, churn and
the satisfaction survey, checked on simulated traffic against their ground truth in truth/."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from engageflow import lake
from engageflow.app.simulate import SESSIONS, STATE, simulate
from engageflow.importer import ColumnMapping, import_events
from engageflow.settings import Drift, Settings
from engageflow.simulator import POLICIES, DayOfTraffic, SlateRequests, Slates, simulate_day
from engageflow.simulator.retention import MissingUserState, StateMismatch
from engageflow.simulator.survey import score_chances
from engageflow.simulator.world import build_world
from expectations.ingest import ingest_day

DAY = date(2026, 1, 1)
ONE = timedelta(days=1)
RANDOM = POLICIES["random"]
# Events, catalog, truth and users of the first three days of the test world with the
# long-term laws off, as main wrote them before they existed (commit 2b1ffcb).
MAIN_DIGEST = "f5a54750c436020e10a3d02e704ee9b6ca931143d0c5d233b403e6f54da787a4"


@pytest.fixture
def lasting(settings: Settings) -> Settings:
    """The test world with the long-term laws on and enough traffic to see them per user."""
    settings.simulation.retention.enabled = True
    settings.simulation.requests_per_day = 4_000
    return settings


def _days(settings: Settings, policy, days: int) -> list[DayOfTraffic]:
    """Consecutive days from the start, each from the state the day before left."""
    out, state = [], None
    for offset in range(days):
        day = DAY + offset * ONE
        out.append(
            simulate_day(settings.simulation, settings.labels, settings.seed, day, policy, state)
        )
        state = out[-1].state
    return out


def _ranked_by(settings: Settings, latent: str):
    """A policy showing each request's candidates highest latent `latent` first (no exploring)."""
    world = build_world(settings.simulation, settings.seed, DAY + 10 * ONE)
    value = dict(zip(world.items.ids, getattr(world.items, latent), strict=True))

    def policy(requests: SlateRequests, rng: np.random.Generator) -> Slates:
        keys = np.vectorize(value.__getitem__)(requests.candidates)
        chosen = np.argsort(-keys, axis=1, kind="stable")[:, : requests.k]
        n = len(chosen)
        return Slates(
            chosen=chosen,
            propensity=np.ones(chosen.shape),
            policy=np.full(n, "champion", dtype=object),
            model_version=np.full(n, "test", dtype=object),
        )

    return policy


def _requests_per_user(traffic: DayOfTraffic) -> pd.Series:
    sessions = traffic.sessions.to_pandas()
    return sessions.groupby("user_id").size()


def test_retention_off_is_mains_output(settings: Settings) -> None:
    assert not settings.simulation.retention.enabled  # the default
    digest = hashlib.sha256()
    for traffic in _days(settings, RANDOM, 3):
        assert traffic.state is None and traffic.sessions is None
        for table in (traffic.events, traffic.items, traffic.truth, traffic.users):
            digest.update(repr(table.to_pydict()).encode())
    assert digest.hexdigest() == MAIN_DIGEST


def test_the_first_day_is_calibrated_and_unchanged_but_for_surveys(lasting: Settings) -> None:
    on = _days(lasting, RANDOM, 1)[0]
    lasting.simulation.retention.enabled = False
    off = _days(lasting, RANDOM, 1)[0]
    assert on.sessions.num_rows == lasting.simulation.requests_per_day
    events = on.events.to_pandas()
    assert (events["event_type"] == "survey").any()
    plain = events[events["event_type"] != "survey"].drop(columns="event_id")
    expected = off.events.to_pandas().drop(columns="event_id")
    pd.testing.assert_frame_equal(plain.reset_index(drop=True), expected)


def test_bad_engagement_means_fewer_requests_the_next_day(lasting: Settings) -> None:
    # Day 1 served clickbait first or quality first to the same users; day 2 the same random
    # policy for both: only the users' memories of day 1 differ.
    bait = _ranked_by(lasting, "clickbait")
    quality = _ranked_by(lasting, "quality")
    runs = {}
    for name, first in (("bait", bait), ("quality", quality)):
        day1 = simulate_day(lasting.simulation, lasting.labels, lasting.seed, DAY, first)
        day2 = simulate_day(
            lasting.simulation, lasting.labels, lasting.seed, DAY + ONE, RANDOM, day1.state
        )
        runs[name] = (day1, day2)
    b1, q1 = (runs[n][0].sessions.to_pandas() for n in ("bait", "quality"))
    assert b1["user_id"].equals(q1["user_id"])  # the same users asked on day 1
    assert b1["value"].mean() < q1["value"].mean() - 1  # bait was worse engagement
    served = b1["user_id"].unique()
    after = {n: _requests_per_user(runs[n][1]).reindex(served, fill_value=0) for n in runs}
    fewer, more = after["bait"].sum(), after["quality"].sum()
    assert fewer < 0.8 * more
    assert more - fewer > 10 * np.sqrt(more + fewer)  # far beyond Poisson noise
    # User by user: most return less after bait (a user with one quiet session may not).
    rates = {n: runs[n][0].state.to_pandas().set_index("user_id")["return_rate"] for n in runs}
    assert (rates["bait"][served] < rates["quality"][served]).mean() > 0.8
    assert rates["bait"][served].mean() < rates["quality"][served].mean() - 0.3


def test_churned_users_never_come_back(lasting: Settings) -> None:
    days = _days(lasting, _ranked_by(lasting, "clickbait"), 5)
    churned = days[1].state.to_pandas().query("churned")["user_id"]
    assert len(churned) > 20
    assert (days[1].state.to_pandas().set_index("user_id").loc[churned, "return_rate"] == 0).all()
    for later in days[2:]:
        assert not later.sessions.to_pandas()["user_id"].isin(churned).any()
        assert later.state.to_pandas().set_index("user_id").loc[churned, "churned"].all()
    good = _days(lasting, _ranked_by(lasting, "quality"), 2)
    assert good[1].state.to_pandas()["churned"].sum() < 0.1 * len(churned)


def test_survey_scores_follow_the_law(lasting: Settings) -> None:
    lasting.simulation.retention.survey_share = 0.5
    traffic = _days(lasting, RANDOM, 1)[0]
    events = traffic.events.to_pandas()
    sessions = traffic.sessions.to_pandas().set_index("request_id")
    answers = events[events["event_type"] == "survey"].set_index("request_id")
    assert answers.index.is_unique
    assert abs(len(answers) / len(sessions) - 0.5) < 0.05
    assert sessions.loc[answers.index, "surveyed"].all() and sessions["surveyed"].sum() == len(
        answers
    )
    score = answers["dwell_seconds"]
    assert set(score.unique()) <= {1, 2, 3, 4, 5}
    # The answer is about its own session: the slate's first item, after all its other events.
    shown = events[events["event_type"] == "impression"].set_index(["request_id", "position"])
    first = shown.xs(0, level="position")
    assert (answers["item_id"] == first.loc[answers.index, "item_id"]).all()
    last = events[events["event_type"] != "survey"].groupby("request_id")["ts"].max()
    assert (answers["ts"] > last[answers.index]).all()
    # Observed scores match the exact law, and good sessions score higher than bad ones.
    value = sessions.loc[answers.index, "value"]
    expected = sessions.loc[answers.index, "expected_score"]
    assert abs(score.mean() - expected.mean()) < 0.05
    assert score[value >= 1].mean() > score[value <= -4].mean() + 1.5
    assert np.corrcoef(score, value)[0, 1] > 0.5
    chances = score_chances(np.array([-10.0, 0.0, 10.0]), lasting.simulation.retention)
    assert np.allclose(chances.sum(axis=1), 1) and (chances >= 0).all()
    assert chances[0].argmax() == 0 and chances[2].argmax() == 4


def _elsewhere(settings: Settings, name: str) -> Settings:
    """The same settings on a data dir of their own."""
    return Settings(data_dir=settings.data_dir / name, simulation=settings.simulation.model_dump())


def _landed(root: Path) -> dict[Path, bytes]:
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*.parquet"))}


def test_same_seed_same_bytes_and_days_before_a_change_stay(lasting: Settings) -> None:
    runs = []
    for name in ("a", "b"):
        settings = _elsewhere(lasting, name)
        list(simulate(settings, 3, RANDOM))
        runs.append(_landed(settings.root))
    assert runs[0] == runs[1]
    assert sum(1 for p in runs[0] if p.parts[:2] == ("truth", STATE)) == 3
    assert sum(1 for p in runs[0] if p.parts[:2] == ("truth", SESSIONS)) == 3
    # A drift from day 3 on changes day 3, not the two days before nor the state they left.
    lasting.simulation.drifts = [Drift(day=DAY + 2 * ONE, topic=0, shift=-3.0)]
    drifted = _elsewhere(lasting, "c")
    list(simulate(drifted, 3, RANDOM))
    changed = {p for p, data in _landed(drifted.root).items() if runs[0][p] != data}
    assert changed and all("date=2026-01-03" in str(p) for p in changed)


def test_a_day_after_the_first_needs_the_state_before(lasting: Settings) -> None:
    config, labels, seed = lasting.simulation, lasting.labels, lasting.seed
    with pytest.raises(MissingUserState, match="simulate the days in order"):
        simulate_day(config, labels, seed, DAY + ONE, RANDOM)
    state = simulate_day(config, labels, seed, DAY, RANDOM).state
    more = config.model_copy(update={"users": config.users - 1})
    with pytest.raises(StateMismatch, match="another seed or world settings"):
        simulate_day(more, labels, seed, DAY + ONE, RANDOM, state)
    extra = pa.table({"user_id": ["nobody"]})  # names no user of this world
    with pytest.raises(StateMismatch):
        simulate_day(config, labels, seed, DAY + ONE, RANDOM, extra)


def test_survey_events_pass_the_events_gate(lasting: Settings) -> None:
    list(simulate(lasting, 1, RANDOM))
    landed = lake.partition_files(lasting.root, "landing", "events", DAY)[0]
    surveys = (pd.read_parquet(landed)["event_type"] == "survey").sum()
    assert surveys > 20
    done = ingest_day(lasting, DAY)
    assert done.rows_quarantined == 0
    kept = pd.read_parquet(done.path)
    assert (kept["event_type"] == "survey").sum() == surveys
    # A survey score outside 1-5 is a bad row: quarantined, the rest accepted.
    events = pd.read_parquet(landed)
    events.loc[(events["event_type"] == "survey").idxmax(), "dwell_seconds"] = 7.0
    lake.write_atomic(pa.Table.from_pandas(events, preserve_index=False), landed)
    assert ingest_day(lasting, DAY).rows_quarantined == 1


def test_survey_answers_import_with_their_score(settings: Settings, tmp_path: Path) -> None:
    source = tmp_path / "log.csv"
    source.write_text(
        "uid,content,when,action,value\n"
        "u1,i1,2026-02-01T10:00:00Z,view,\n"
        "u1,i1,2026-02-01T10:05:00Z,survey,4\n"
    )
    mapping = ColumnMapping(
        user="uid", item="content", timestamp="when", event="action", dwell="value"
    )
    done = import_events(settings, source, mapping)
    events = pd.read_parquet(done.files[0])
    assert events["event_type"].tolist() == ["impression", "survey"]
    assert events["dwell_seconds"].tolist()[1] == 4.0
