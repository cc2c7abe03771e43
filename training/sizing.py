"""Evaluation windows sized by volume: a sparse log's day holds too few sessions to rank.

The test window ends on the end day; it and then the validation window before it widen back one
day at a time from their configured lengths until each holds `training.min_rankable_groups`
ranking groups with a good and another item, or reaches `training.max_eval_days` days, or would
leave the train window no room in the lake. A busy log keeps the configured days.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from engageflow import lake
from engageflow.settings import Settings
from training import groups
from training.columns import LABEL
from training.dataset import labelled_impressions
from training.windows import Window


def sized_window(settings: Settings, end: date, train_days: int) -> Window:
    """The window whose last test day is `end`, its test and validation spans sized by volume."""
    config = settings.training
    first_day = next(lake.partition_days(settings.root, "lake", "events"), end)
    # Each span may reach back only as far as leaves the spans before it their minimum days.
    test_floor = first_day + timedelta(days=train_days + config.validation_days)
    test_start = _widen(settings, end, config.test_days, test_floor)
    validation_end = test_start - timedelta(days=1)
    validation_start = _widen(
        settings, validation_end, config.validation_days, first_day + timedelta(days=train_days)
    )
    train_end = validation_start - timedelta(days=1)
    train_start = train_end - timedelta(days=train_days - 1)
    return Window(train_start, train_end, validation_start, validation_end, test_start, end)


def _widen(settings: Settings, last: date, days: int, floor: date) -> date:
    """The first day of the shortest span ending on `last`, of at least `days` days, that holds
    enough rankable groups (within the limits above)."""
    config = settings.training
    first = last - timedelta(days=days - 1)
    frames = [_impressions(settings, day) for day in lake.days_between(first, last)]
    while (
        _rankable(frames, settings) < config.min_rankable_groups
        and (last - first).days + 1 < config.max_eval_days
        and first > floor
    ):
        first -= timedelta(days=1)
        frames.insert(0, _impressions(settings, first))
    return first


def _impressions(settings: Settings, day: date) -> pd.DataFrame:
    if not lake.partition_files(settings.root, "lake", "events", day):
        return pd.DataFrame()  # require_days names the missing day afterwards
    return labelled_impressions(settings, day, with_truth=False)


def _rankable(frames: list[pd.DataFrame], settings: Settings) -> int:
    frame = pd.concat([f for f in frames if not f.empty] or [pd.DataFrame()], ignore_index=True)
    if frame.empty:
        return 0
    codes = groups.group_codes(frame, groups.resolve(frame, settings.training), settings.training)
    return groups.rankable_groups(frame[LABEL].to_numpy(), codes)
