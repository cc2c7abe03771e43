"""Bad run configurations on real DAG runs: refused with the field named, at once (no retry),
and nothing in the data dir changes. (In e2e/ for its session Airflow; listed in
docs/bad_input.md with the other edges.)"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from small_world import SMALL_WORLD
from stored import tree
from worlds import featured_lake

from engageflow.settings import Settings


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Two featured days, shared: each run must leave them as they were anyway."""
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("bad-confs") / "data", simulation=SMALL_WORLD
    )
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ENGAGEFLOW_DATA_DIR", str(settings.root))  # DAG tasks read settings
        env.delenv("ENGAGEFLOW_CONFIG", raising=False)
        yield featured_lake(settings, 2)


def _failed_tries(dag_run, task_id: str) -> tuple[str, int]:
    (ti,) = [ti for ti in dag_run.get_task_instances() if ti.task_id == task_id]
    return ti.state, ti.try_number


@pytest.mark.parametrize(
    ("dag_id", "conf", "task_id"),
    [
        ("build_features", {"day": "not-a-date"}, "which_days"),
        ("build_features", {"day": "2026-02-30"}, "which_days"),
        ("build_features", {"day": "2030-01-01"}, "build_offline"),  # a day the lake lacks
        ("monitor_drift", {"day": "yesterday"}, "which_days"),
        ("train_ranker", {"end": "not-a-date"}, "window"),
        ("train_ranker", {"end": "2026-01-02"}, "window"),  # the window's days are missing
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_a_bad_conf_fails_its_task_at_once_and_changes_nothing(
    dagbag, world: Settings, dag_id: str, conf: dict, task_id: str
) -> None:
    before = tree(world.root)
    run = dagbag.get_dag(dag_id).test(logical_date=datetime(2026, 1, 3, tzinfo=UTC), run_conf=conf)
    assert run.state == "failed"
    assert _failed_tries(run, task_id) == ("failed", 1)  # a DataError: no retry
    assert tree(world.root) == before


@pytest.mark.parametrize(
    "conf",
    [{"end": 20260102}, {"reason": ""}, {"broken_features": ["x"]}],
    ids=["end_not_text", "empty_reason", "broken_features_not_text"],
)
def test_a_conf_against_the_params_is_refused_before_the_run(
    dagbag, world: Settings, conf: dict
) -> None:
    from airflow.sdk.exceptions import ParamValidationError

    before = tree(world.root)
    with pytest.raises(ParamValidationError) as refused:
        dagbag.get_dag("train_ranker").test(
            logical_date=datetime(2026, 1, 3, tzinfo=UTC), run_conf=conf
        )
    assert next(iter(conf)) in str(refused.value)
    assert tree(world.root) == before
