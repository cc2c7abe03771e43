"""feature_repo/compat.py without a Feast store: the entity-order re-join and the one Feast
warning that is silenced (and only that one)."""

from __future__ import annotations

import logging

import pandas as pd
import pytest

from engageflow.errors import DataError
from feature_repo.compat import historical_in_entity_order, quiet_file_registry_warning


class ShuffledStore:
    """Answers like Feast's DuckDB store: every entity row once, in another order."""

    def __init__(self, drop: int = 0):
        self.drop = drop

    def get_historical_features(self, entity_df: pd.DataFrame, features):
        answer = entity_df.iloc[::-1].assign(score=entity_df["user_id"].str.len())
        return type("Job", (), {"to_df": lambda _: answer.iloc[self.drop :]})()


def test_rows_come_back_in_the_entity_order_without_the_row_number() -> None:
    entity = pd.DataFrame({"user_id": ["a", "bb", "ccc"]}, index=[7, 3, 5])
    joined = historical_in_entity_order(ShuffledStore(), entity, ["v:score"])
    assert joined["user_id"].tolist() == ["a", "bb", "ccc"]
    assert joined["score"].tolist() == [1, 2, 3]
    assert list(joined.columns) == ["user_id", "score"]


def test_a_lost_entity_row_is_an_error_not_a_shorter_frame() -> None:
    entity = pd.DataFrame({"user_id": ["a", "bb"]})
    with pytest.raises(DataError, match="1 rows for 2"):
        historical_in_entity_order(ShuffledStore(drop=1), entity, ["v:score"])


def test_only_the_file_registry_flag_warning_is_silenced(caplog: pytest.LogCaptureFixture) -> None:
    quiet_file_registry_warning()
    quiet_file_registry_warning()  # idempotent
    logger = logging.getLogger("feast.repo_config")
    assert len(logger.filters) == 1
    with caplog.at_level(logging.WARNING, logger="feast.repo_config"):
        logger.warning(
            "`serve_features_while_materializing` is enabled but `registry_type` is 'file'. ..."
        )
        logger.warning("`serve_features_while_materializing` is enabled together with thread")
    assert [r.getMessage()[-6:] for r in caplog.records] == ["thread"]
