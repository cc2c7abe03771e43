"""One FeatureStore from settings: the yaml the CLI reads agrees with it (the committed one on
the embedded defaults, a written one otherwise), and the production profile runs on a SQL
registry in PostgreSQL and Redis online."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from feast.repo_config import load_repo_config

from engageflow.settings import Settings
from feature_repo.apply import apply_if_changed
from feature_repo.materialize import materialize_days
from feature_repo.parity import check_parity
from feature_repo.store import (
    COMMITTED_YAML,
    REPO_DIR,
    YAML_ENV,
    FeastSettingsError,
    cli_settings,
    committed_yaml,
    feast_env,
    feature_store,
    materialized_through,
    repo_config,
    store_yaml,
)
from feature_repo.tables import LASTING_VIEWS, VIEWS
from tests.integration.conftest import FEATURE_DAYS
from training.dataset import training_frame


def _yaml_config(settings: Settings, monkeypatch: pytest.MonkeyPatch):
    for name, value in feast_env(settings).items():
        monkeypatch.setenv(name, value)
    return load_repo_config(REPO_DIR, Path(os.environ[YAML_ENV]))


def _no_settings_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("ENGAGEFLOW_")] + [YAML_ENV]:
        monkeypatch.delenv(name, raising=False)


def test_the_committed_yaml_is_the_embedded_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """`cd feature_repo && feast plan` with nothing set: the committed yaml loads (no variables
    to expand) and describes the stores the default settings build, seen from the repo root."""
    _no_settings_in_env(monkeypatch)
    monkeypatch.chdir(REPO_DIR)  # where Feast runs repo.py
    defaults = cli_settings()
    assert defaults.root == REPO_DIR.parent / ".engageflow"
    assert committed_yaml() == store_yaml(defaults)  # paths resolved against feature_repo/
    committed = load_repo_config(REPO_DIR, COMMITTED_YAML)
    assert committed.registry.registry_type == "file"
    assert committed.registry.serve_features_while_materializing
    assert committed.online_store.type == "sqlite"


def test_the_plain_cli_on_other_settings_says_what_to_run(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_settings_in_env(monkeypatch)
    monkeypatch.setenv("ENGAGEFLOW_FEAST__ONLINE_STORE", "redis")
    with pytest.raises(FeastSettingsError, match=r"online_store.*engageflow feast-env"):
        cli_settings()
    # The same from the real CLI; it stops at repo.py, before any store is touched.
    feast = Path(sys.executable).with_name("feast")
    planned = subprocess.run(
        [str(feast), "plan"], cwd=REPO_DIR, capture_output=True, text=True, env=dict(os.environ)
    )
    assert planned.returncode != 0
    assert "engageflow feast COMMAND" in planned.stderr, planned.stderr[-2000:]


@pytest.mark.parametrize("production", [False, True])
def test_feature_store_yaml_expands_to_the_config_built_from_settings(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, production: bool
) -> None:
    if production:
        settings.profile = "production"
        settings.feast.registry_uri = "postgresql+psycopg://postgres@127.0.0.1:5432/feast"
    from_yaml, built = _yaml_config(settings, monkeypatch), repo_config(settings)
    assert from_yaml.project == built.project == settings.feast.project
    assert from_yaml.registry.model_dump() == built.registry.model_dump()
    assert from_yaml.online_store.model_dump() == built.online_store.model_dump()
    assert built.online_store.type == ("redis" if production else "sqlite")
    assert built.registry.registry_type == ("sql" if production else "file")
    assert from_yaml.offline_store.type == built.offline_store.type == "duckdb"


def test_production_without_a_registry_url_is_refused_with_the_setting_to_set(
    settings: Settings,
) -> None:
    settings.profile = "production"
    with pytest.raises(FeastSettingsError, match="ENGAGEFLOW_FEAST__REGISTRY_URI"):
        feature_store(settings)


def test_production_profile_on_postgres_registry_and_redis(
    feature_world: Settings, postgres_url: str, redis_db: str
) -> None:
    settings = feature_world
    settings.profile = "production"
    settings.feast.registry_uri = postgres_url
    settings.feast.redis_connection = redis_db
    settings.feast.parity_sample = 20
    assert "CREATE feature view user_engagement" in apply_if_changed(settings)
    assert apply_if_changed(settings) == []  # unchanged definitions: no apply
    fresh = feature_store(settings)  # a new process would see the same registry
    assert sorted(fv.name for fv in fresh.list_feature_views()) == sorted(VIEWS)
    assert fresh.get_feature_service("ranker_v1").name == "ranker_v1"
    done = materialize_days(settings, FEATURE_DAYS)
    assert check_parity(settings, done.end)["item_profile"] == 20
    settings.feast.ttl_days += 1  # a changed definition is applied, once
    changes = apply_if_changed(settings)
    windowed = [view for view in VIEWS if view not in LASTING_VIEWS]  # theirs: history_ttl_days
    assert {f"UPDATE feature view {view}" for view in windowed} <= set(changes), changes
    assert not any(view in change for change in changes for view in LASTING_VIEWS), changes
    assert apply_if_changed(settings) == []
    ttl = feature_store(settings).get_feature_view("user_engagement").ttl
    assert ttl.days == settings.feast.ttl_days


def test_features_stay_readable_while_a_materialization_runs(feature_world: Settings) -> None:
    """A materialization marks its views MATERIALIZING; a retrain's point-in-time join and an
    online read in another process still answer (with the last materialized values)."""
    from feast.feature_view import FeatureViewState

    settings = feature_world
    apply_if_changed(settings)
    materialize_days(settings, FEATURE_DAYS)
    marking = feature_store(settings)
    for view in marking.list_feature_views():
        view.state = FeatureViewState.MATERIALIZING
        marking.registry.apply_feature_view(view, marking.project, commit=True)
    reader = feature_store(settings)  # as another process sees the registry
    assert {view.state for view in reader.list_feature_views()} == {FeatureViewState.MATERIALIZING}
    frame, features = training_frame(settings, FEATURE_DAYS[1:], settings.training.feature_service)
    assert len(frame) and frame[features].notna().any().all()
    name = f"user_impressions_{settings.feast.windows_days[-1]}d"
    user = frame.loc[frame[name] > 0, "user_id"].iloc[0]
    online = reader.get_online_features(
        features=[f"user_engagement:{name}"], entity_rows=[{"user_id": user}]
    ).to_dict()
    assert online[name][0] > 0


def test_materialized_through_waits_for_every_online_view(feature_world: Settings) -> None:
    """What serving reports and the loop waits for: a view written alone is not the day."""
    settings = feature_world
    apply_if_changed(settings)
    store = feature_store(settings)
    assert materialized_through(store) is None
    first, *_ = store.list_feature_views()
    end = datetime(2026, 1, 3, tzinfo=UTC)
    store.materialize(start_date=end - timedelta(days=2), end_date=end, feature_views=[first.name])
    assert materialized_through(feature_store(settings)) is None  # the others not yet
    materialize_days(settings, FEATURE_DAYS)
    reader = feature_store(settings)
    ends = {view.most_recent_end_time for view in reader.list_feature_views()}
    assert materialized_through(reader) == min(ends)
