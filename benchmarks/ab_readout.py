"""A/B readouts looked at every day: how often each outcome comes, and after how many days.

Many simulated tests per scenario: users keep their arm (the sticky canary), come back each day
and have their own good and bad rates; the canary's good rate is the champion's times
(1 + lift). Each day the readout pools the test so far, as monitor_drift does, and the test
stops at its first conclusive day. Two readouts: ours (`monitoring.ab.ab_readout`, mSPRT) and,
for contrast, a fixed-horizon Welch t-test read every day (the readout before it).

python -m benchmarks.ab_readout [--tests 200] [--good-rate 0.10] [--bad-rate 0.05]
"""

from __future__ import annotations

import argparse
import statistics
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from scipy import stats

from benchmarks.report import load_average, write_results
from engageflow.app.demo import DEMO_WORLD, demo_overrides
from engageflow.settings import MonitoringConfig, ServingConfig, SimulationConfig
from monitoring.ab import Decision, ab_readout

Readout = Callable[[pd.DataFrame, int], Decision]


@dataclass(frozen=True)
class World:
    name: str
    users: int
    requests_per_day: int
    slate_size: int
    canary_share: float


def demo_world() -> World:
    """The demo's world with the demo's canary share (an even split)."""
    share = demo_overrides(date(2026, 1, 1), 8)["serving"]["canary_share"]
    return World(
        "demo", DEMO_WORLD["users"], DEMO_WORLD["requests_per_day"], DEMO_WORLD["slate_size"], share
    )


WORLDS = (
    demo_world(),
    World(
        "default",
        SimulationConfig().users,
        SimulationConfig().requests_per_day,
        SimulationConfig().slate_size,
        ServingConfig().canary_share,
    ),
)
LIFTS = (0.0, 0.10, -0.10)


def sequential(config: MonitoringConfig) -> Readout:
    return lambda frame, days: ab_readout(frame, config, days).decision


def daily_welch(config: MonitoringConfig) -> Readout:
    """The readout before the mSPRT: Welch's test at alpha, as if each day were the last."""

    def decide(frame: pd.DataFrame, days: int) -> Decision:
        canary = frame.loc[frame["policy"] == "canary", "good"].to_numpy()
        champion = frame.loc[frame["policy"] == "champion", "good"].to_numpy()
        if min(len(canary), len(champion)) < config.ab_min_users:
            return "keep_testing"
        result = stats.ttest_ind(canary, champion, equal_var=False)
        if result.pvalue < config.ab_alpha:
            return "promote" if result.statistic > 0 else "roll_back"
        return "keep_champion" if days >= config.ab_max_days else "keep_testing"

    return decide


def one_test(
    world: World,
    lift: float,
    readout: Readout,
    config: MonitoringConfig,
    rates: tuple[float, float],
    rng: np.random.Generator,
) -> tuple[Decision, int]:
    """(the decision, the day it came) of one simulated test."""
    good_rate, bad_rate = rates
    canary = rng.random(world.users) < world.canary_share
    concentration = 20.0  # users differ: a Beta spread of personal rates around the mean
    good_p = rng.beta(good_rate * concentration, (1 - good_rate) * concentration, world.users)
    good_p = np.clip(np.where(canary, good_p * (1 + lift), good_p), 0, 1)
    bad_p = rng.beta(bad_rate * concentration, (1 - bad_rate) * concentration, world.users)
    shown = np.zeros(world.users)
    good = np.zeros(world.users)
    bad = np.zeros(world.users)
    policy = np.where(canary, "canary", "champion")
    for day in range(1, config.ab_max_days + 1):
        today = rng.poisson(world.requests_per_day / world.users, world.users) * world.slate_size
        good_today = rng.binomial(today, good_p)
        bad_today = rng.binomial(today - good_today, np.clip(bad_p / (1 - good_p + 1e-9), 0, 1))
        shown, good, bad = shown + today, good + good_today, bad + bad_today
        seen = shown > 0
        # One row per user holding the user's rate: the readout's per-user means are the same.
        frame = pd.DataFrame(
            {
                "user_id": np.flatnonzero(seen),
                "policy": policy[seen],
                "model_version": "2",
                "good": good[seen] / shown[seen],
                "bad": bad[seen] / shown[seen],
            }
        )
        decision = readout(frame, day)
        if decision != "keep_testing":
            return decision, day
    return "keep_testing", config.ab_max_days


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tests", type=int, default=200, help="simulated tests per scenario")
    parser.add_argument("--good-rate", type=float, default=0.10, help="champion's good rate")
    parser.add_argument("--bad-rate", type=float, default=0.05, help="champion's bad rate")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    started = load_average()
    config = MonitoringConfig()
    rows = []
    for world in WORLDS:
        for lift in LIFTS:
            for name, readout in (
                ("mSPRT (ours)", sequential(config)),
                ("daily Welch (before)", daily_welch(config)),
            ):
                rng = np.random.default_rng(args.seed)
                results = [
                    one_test(world, lift, readout, config, (args.good_rate, args.bad_rate), rng)
                    for _ in range(args.tests)
                ]
                counts = Counter(decision for decision, _ in results)
                decided = [day for decision, day in results if decision in ("promote", "roll_back")]
                rows.append(
                    [
                        f"{world.name} ({world.users:,} users, {world.requests_per_day:,} req/day, "
                        f"canary {world.canary_share:.0%})",
                        f"{lift:+.0%}",
                        name,
                        *(f"{counts[d] / args.tests:.1%}" for d in ("promote", "roll_back")),
                        f"{counts['keep_champion'] / args.tests:.1%}",
                        f"{counts['keep_testing'] / args.tests:.1%}",
                        f"{statistics.median(decided):.0f}" if decided else "-",
                    ]
                )
    command = f"python -m benchmarks.ab_readout --tests {args.tests}"
    if (args.good_rate, args.bad_rate) != (0.10, 0.05):
        command += f" --good-rate {args.good_rate} --bad-rate {args.bad_rate}"
    notes = f"""
{args.tests} simulated tests per row; each looked at daily for up to {config.ab_max_days} days
(`ab_max_days`), stopping at the first conclusive look. Default settings: alpha
{config.ab_alpha}, `ab_min_users` {config.ab_min_users}, the canary share of each world's
users (sticky; the demo splits evenly, the default is 10%), mSPRT tuned to a
{config.ab_expected_lift:.0%} relative lift. Users come back Poisson(requests_per_day / users)
times a day; personal good and bad rates are Beta around {args.good_rate} and {args.bad_rate};
the bad rate is the same in both arms. With no true
difference (+0%), "promote" is a false promotion and "roll back" a false alarm. "Kept champion":
the horizon passed without a conclusion and the challenger was retired; "undecided": fewer
than `ab_min_users` users in the canary by the horizon. Median days: over promote and roll back.
"""
    path = write_results(
        "ab_readout",
        "A/B readout under daily looks",
        command,
        [
            "world",
            "true lift",
            "readout",
            "promote",
            "roll back",
            "kept champion",
            "undecided",
            "median days to decision",
        ],
        rows,
        notes,
        load_before=started,
    )
    print(path.read_text())


if __name__ == "__main__":
    main()
