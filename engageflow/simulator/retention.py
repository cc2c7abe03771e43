"""Long-term laws: each user's satisfaction, remembered with decay, sets how often they return.

A session's value is good engagements minus weighted bounces and hides/reports, judged against
the status quo (`RetentionConfig.neutral_session`). A user's satisfaction after day D is the
satisfaction after D-1 decayed by one day (half-life `half_life_days`) plus the day's session
values. Their return rate on D+1 is 2 * expit(sensitivity * satisfaction): 1 for a new or
neutral user, so the traffic level starts at `requests_per_day`, between 0 and 2 after. A user
whose rate falls below `churn_rate` has churned and never comes back. The state lives in
truth/retention/date=D (ground truth, never in events), so day D+1 starts from what happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pyarrow as pa
from scipy.special import expit

from engageflow.errors import DataError
from engageflow.settings import LabelConfig, RetentionConfig, SimulationConfig
from engageflow.simulator.behaviour import Responses
from engageflow.simulator.world import Users, midnight64

STATE = pa.schema(
    [
        pa.field("user_id", pa.string(), nullable=False),
        pa.field("satisfaction", pa.float64(), nullable=False),  # after the day
        pa.field("return_rate", pa.float64(), nullable=False),  # multiplier for the next day
        pa.field("churned", pa.bool_(), nullable=False),
    ]
)


class StateMismatch(DataError, ValueError):
    """A stored user state that does not belong to this world (other seed or settings)."""


class MissingUserState(DataError, FileNotFoundError):
    """With the long-term laws on, a day after the first needs the state after the day before."""


@dataclass(frozen=True)
class UserState:
    satisfaction: np.ndarray  # float64, one per world user
    churned: np.ndarray  # bool

    def rates(self, config: RetentionConfig) -> np.ndarray:
        """Each user's return rate: the multiplier of their usual requests per day."""
        rate = 2.0 * expit(config.sensitivity * self.satisfaction)
        return np.where(self.churned, 0.0, rate)


def entering(
    config: SimulationConfig, users: Users, day: date, state: pa.Table | None
) -> UserState | None:
    """The users' state entering `day` (None with the long-term laws off): fresh on the first."""
    if not config.retention.enabled:
        return None
    if state is None and day > config.start:
        raise MissingUserState(
            f"simulation.retention is on, so {day} starts from the users' state after "
            f"{day - timedelta(days=1)} (truth/retention/); simulate the days in order from "
            f"{config.start}, or turn simulation.retention.enabled off"
        )
    return carried(state, users, day)


def carried(table: pa.Table | None, users: Users, day: date) -> UserState:
    """The state after the day before `day` for the world's users; today's arrivals start fresh.

    Users only ever join, so the stored users are exactly those who joined before `day`.
    """
    n = len(users.ids)
    state = UserState(np.zeros(n), np.zeros(n, dtype=bool))
    if table is None:
        return state
    stored = table.column("user_id").to_numpy(zero_copy_only=False)
    known = users.ids[users.joined < midnight64(day)]
    if not np.array_equal(stored, known):
        raise StateMismatch(
            f"the stored user state ({len(stored)} users) is not this world's {len(known)} "
            f"users who joined before {day}: it was written with another seed or world "
            "settings. Simulate the days before again with these settings."
        )
    state.satisfaction[: len(stored)] = table.column("satisfaction").to_numpy()
    state.churned[: len(stored)] = table.column("churned").to_numpy(zero_copy_only=False)
    return state


@dataclass(frozen=True)
class Outcomes:
    """Per impression, the mutually exclusive outcomes that move satisfaction."""

    good: np.ndarray  # a click kept for good_dwell_seconds, no hide or report
    bounce: np.ndarray  # a click left within bounce_dwell_seconds, no hide or report
    negative: np.ndarray  # a hide or a report


def outcomes(responses: Responses, labels: LabelConfig) -> Outcomes:
    """What happened to each impression, with the labels' thresholds (engageflow/labels.py)."""
    negative = responses.hidden | responses.reported
    dwell = np.nan_to_num(responses.dwell_seconds)
    clicked = responses.clicked & ~negative
    return Outcomes(
        good=clicked & (dwell >= labels.good_dwell_seconds),
        bounce=clicked & (dwell < labels.bounce_dwell_seconds),
        negative=negative,
    )


def session_values(
    seen: Outcomes, request: np.ndarray, n: int, config: RetentionConfig
) -> np.ndarray:
    """Each of the n sessions' value; `request` maps each impression to its session."""
    per_impression = (
        config.good * seen.good + config.bounce * seen.bounce + config.negative * seen.negative
    )
    return np.bincount(request, weights=per_impression, minlength=n)


def next_state(
    state: UserState, users: np.ndarray, values: np.ndarray, config: RetentionConfig
) -> UserState:
    """The state after a day whose sessions (by `users`, world indices) had `values`."""
    keep = 0.5 ** (1.0 / config.half_life_days)
    gained = np.bincount(
        users, weights=values - config.neutral_session, minlength=len(state.satisfaction)
    )
    satisfaction = keep * state.satisfaction + gained
    after = UserState(satisfaction, state.churned)
    return UserState(satisfaction, state.churned | (after.rates(config) < config.churn_rate))


def state_table(state: UserState, ids: np.ndarray, config: RetentionConfig) -> pa.Table:
    """The state after a day, one row per user who joined by its end (truth/retention)."""
    columns = [ids, state.satisfaction, state.rates(config), state.churned]
    return pa.Table.from_arrays([pa.array(c) for c in columns], schema=STATE)
