"""The offline gate: a new version serves (as challenger) only if it is not worse on recent data.

Primary metric (settings.training.gate_metric): the paired bootstrap interval (by request) of
challenger minus reference. By default AUC within each slate position (`position_auc`): the
test days were served by the champion, in its order, and engagement falls with position, so
NDCG on the logged slates credits the champion for where it put items. Seen on the closed loop:
a drift retrain better within every position (AUC 0.679 vs 0.605, position-stratified) trailed
its champion by 0.043 NDCG@10 on the champion's slates and was refused. Items at the same
position had the same chance to be seen, so comparing them is fair to both models; NDCG, MAP and
MRR are still reported and can be chosen.

A challenger is refused when it is worse on the evidence: its estimate trails by more than
gate_tolerance, or the whole interval lies below zero. The first
model, compared with the popularity baseline that serves before it, must also beat it on the
estimate. Guards (point estimates, same rows): ECE and the bad-engagement rate of the top k may
not rise by more than their tolerances.

Why not non-inferiority (interval's lower bound above -gate_tolerance): a day of 1,000
requests gives a 95% interval of NDCG@10 differences about +-0.02 wide, the tolerance itself,
so a retrain exactly as good as its champion was refused about half the time, and a drift
retrain one day after the drift (measured +0.0055 [-0.0143, +0.0252]) passed or failed by
chance. The rule here refuses what the data shows to be worse and lets equal retrains pass.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from engageflow.settings import TrainingConfig
from training.columns import GROUP, LABEL
from training.evaluate import (
    RANKING_FAMILIES,
    Scores,
    bootstrap_difference,
    comparison_table,
    metric_name,
)
from training.groups import rankable_groups


@dataclass(frozen=True)
class Verdict:
    passed: bool
    reference: str  # "champion v3" or "popularity"
    primary: dict[str, float | str]
    guards: dict[str, dict[str, float]]
    reasons: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the alias history and the logs."""
        word = "passed" if self.passed else "refused"
        return f"{word} vs {self.reference}: " + "; ".join(self.reasons)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def decide(
    frame: pd.DataFrame,
    challenger: Scores,
    reference: Scores,
    config: TrainingConfig,
    seed: int,
    first: bool,
) -> Verdict:
    """Compare two scorers on the same frame; pure, so the rule is tested without MLflow."""
    too_few = too_few_groups(frame, config)
    if too_few:
        primary: dict[str, float | str] = {"metric": metric_name(config.gate_metric, config)}
        return Verdict(False, reference.name, primary, {}, [too_few])
    diff = bootstrap_difference(frame, challenger, reference, config.gate_metric, config, seed)
    # A first model replaces the popularity fallback, so it must also beat it on the estimate.
    # Demanding a significant win of a first model kept small worlds on popularity.
    floor = -config.gate_tolerance
    worse = diff.difference < floor or diff.upper < 0
    passed = not worse and (diff.difference > 0 if first else True)
    trail = f"may not trail by more than {config.gate_tolerance} nor be significantly worse"
    rule = f"must beat on the estimate, {trail}" if first else trail
    reasons = [
        f"{diff.metric} {diff.challenger:.4f} vs {diff.reference:.4f}, difference "
        f"{diff.difference:+.4f} [{diff.lower:+.4f}, {diff.upper:+.4f}] ({rule}: "
        f"{'ok' if passed else 'failed'})"
    ]
    table = comparison_table(frame, [challenger, reference], config, seed)
    guards: dict[str, dict[str, float]] = {}
    limits = {
        metric_name("ece", config): config.gate_ece_tolerance,
        metric_name("bad_rate", config): config.gate_bad_rate_tolerance,
    }
    for metric, tolerance in limits.items():
        new, old = (float(table.loc[m.name, metric]) for m in (challenger, reference))
        if new != new or old != old:
            reasons.append(f"{metric} not compared (one side is not a probability)")
            continue
        ok = new - old <= tolerance
        guards[metric] = {"challenger": new, "reference": old, "tolerance": tolerance}
        reasons.append(f"{metric} {new:.4f} vs {old:.4f} ({'ok' if ok else 'regressed'})")
        passed = passed and ok
    primary = {**asdict(diff), "floor": floor}
    return Verdict(passed, reference.name, primary, guards, reasons)


def too_few_groups(frame: pd.DataFrame, config: TrainingConfig) -> str:
    """Why a ranking gate cannot judge this test window ("" when it can): too few groups hold
    a good item and another one, so every model scores alike on them."""
    if config.gate_metric not in RANKING_FAMILIES:
        return ""
    groups = rankable_groups(frame[LABEL].to_numpy(), frame[GROUP].to_numpy())
    if groups >= config.min_rankable_groups:
        return ""
    return (
        f"cannot judge: the test window holds {groups} ranking groups with a good and another "
        f"item (< training.min_rankable_groups {config.min_rankable_groups}), so "
        f"{metric_name(config.gate_metric, config)} cannot tell models apart, even with the "
        f"test window widened to training.max_eval_days ({config.max_eval_days}). Give the "
        "import a request or session id (--request), set training.group_by=session with a "
        "longer training.session_gap_minutes, or raise training.max_eval_days"
    )
