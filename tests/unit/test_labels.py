import pandas as pd

from engageflow.labels import impression_labels
from engageflow.settings import LabelConfig

CONFIG = LabelConfig(good_dwell_seconds=30, bounce_dwell_seconds=5)


def _events(rows: list[tuple[str, str, str, float | None]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["request_id", "item_id", "event_type", "dwell_seconds"])
    frame["user_id"] = "u"
    return frame


def test_labels_follow_the_definition() -> None:
    events = _events(
        [
            ("r1", "long", "impression", None),
            ("r1", "long", "click", 60.0),
            ("r1", "bounce", "impression", None),
            ("r1", "bounce", "click", 2.0),
            ("r1", "middle", "impression", None),
            ("r1", "middle", "click", 10.0),
            ("r1", "regret", "impression", None),
            ("r1", "regret", "click", 90.0),
            ("r1", "regret", "hide", None),
            ("r1", "reported", "impression", None),
            ("r1", "reported", "report", None),
            ("r1", "ignored", "impression", None),
            ("r2", "long", "impression", None),
            ("r2", "long", "click", 30.0),
        ]
    )
    labels = impression_labels(events, CONFIG).set_index(["request_id", "item_id"])
    expected = {
        ("r1", "long"): (True, False),
        ("r1", "bounce"): (False, True),
        ("r1", "middle"): (False, False),
        ("r1", "regret"): (False, True),
        ("r1", "reported"): (False, True),
        ("r1", "ignored"): (False, False),
        ("r2", "long"): (True, False),  # exactly at the threshold counts as good
    }
    got = {key: (row.good, row.bad) for key, row in labels.iterrows()}
    assert got == expected
    assert labels.loc[("r1", "long"), "dwell_seconds"] == 60.0


def test_clicks_without_impressions_still_count() -> None:
    events = _events([("r9", "x", "click", 45.0), ("r9", "x", "like", None)])
    labels = impression_labels(events, CONFIG)
    assert len(labels) == 1
    assert bool(labels.loc[0, "good"]) and bool(labels.loc[0, "liked"])


def test_without_measured_dwell_a_like_stands_in_and_nothing_bounces() -> None:
    events = _events(
        [
            ("r1", "liked", "impression", None),
            ("r1", "liked", "click", None),
            ("r1", "liked", "like", None),
            ("r1", "plain", "impression", None),
            ("r1", "plain", "click", None),
        ]
    )
    labels = impression_labels(events, CONFIG).set_index("item_id")
    assert (bool(labels.loc["liked", "good"]), bool(labels.loc["liked", "bad"])) == (True, False)
    assert (bool(labels.loc["plain", "good"]), bool(labels.loc["plain", "bad"])) == (False, False)
