"""Read one entity's features from the online store, grouped by feature view (for people)."""

from __future__ import annotations

from typing import Literal

from engageflow.settings import Settings
from feature_repo.store import feature_store
from feature_repo.tables import KEY, VIEWS, feature_names, table_schemas

Entity = Literal["user", "item"]


def entity_features(settings: Settings, entity: Entity, key: str) -> dict[str, dict[str, object]]:
    """{view: {feature: value}} for every view of `entity`; values are None when unknown."""
    join_key = f"{entity}_id"
    schemas = table_schemas(settings.feast)
    views = [view for view in VIEWS if KEY[view] == join_key]
    refs = [f"{view}:{name}" for view in views for name in feature_names(schemas[view])]
    found = feature_store(settings).get_online_features(
        features=refs, entity_rows=[{join_key: key}]
    )
    values = {name: column[0] for name, column in found.to_dict().items()}
    return {view: {name: values[name] for name in feature_names(schemas[view])} for view in views}
