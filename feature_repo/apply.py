"""`feast apply` only when the definitions changed, judged by a dry-run plan."""

from __future__ import annotations

from feast import FeatureStore
from feast.diff.property_diff import TransitionType
from feast.diff.registry_diff import FeastObjectDiff
from feast.feature_view import DUMMY_ENTITY
from feast.project import Project
from feast.repo_contents import RepoContents
from feast.repo_operations import apply_total_with_repo_instance
from google.protobuf.message import Message

from engageflow.settings import Settings
from feature_repo.definitions import Definitions, definitions
from feature_repo.store import feature_store


def repo_contents(store: FeatureStore, declared: Definitions) -> RepoContents:
    """The desired state of the registry, as `feast apply` would parse it from the repo."""
    return RepoContents(
        projects=[Project(name=store.project)],
        data_sources=[*declared.sources.values(), declared.request],
        feature_views=list(declared.views.values()),
        on_demand_feature_views=list(declared.on_demand.values()),
        stream_feature_views=[],
        label_views=[],
        # parse_repo adds the placeholder entity that on-demand views without entities use.
        entities=[*declared.entities.values(), DUMMY_ENTITY],
        feature_services=list(declared.services.values()),
        permissions=[],
    )


def planned_changes(store: FeatureStore, settings: Settings) -> list[str]:
    """What `feast apply` would change, one line per object; empty when nothing."""
    registry_diff, infra_diff, _ = store.plan(repo_contents(store, definitions(settings)))
    changes = [
        f"{diff.transition_type.name} {diff.feast_object_type.value} {diff.name}"
        for diff in registry_diff.feast_object_diffs
        if _really_changed(diff)
    ]
    changes += [
        f"{diff.transition_type.name} infra {diff.name}"
        for diff in infra_diff.infra_object_diffs
        if diff.transition_type != TransitionType.UNCHANGED
    ]
    return changes


def apply_if_changed(settings: Settings) -> list[str]:
    """Apply the definitions when the plan shows a change (deleting what was removed)."""
    store = feature_store(settings)
    changes = planned_changes(store, settings)
    if changes:
        contents = repo_contents(store, definitions(settings))
        apply_total_with_repo_instance(
            store, store.project, store.registry, contents, skip_source_validation=True
        )
    return changes


def _really_changed(diff: FeastObjectDiff) -> bool:
    if diff.transition_type == TransitionType.UNCHANGED:
        return False
    if diff.transition_type != TransitionType.UPDATE:
        return True
    # After a materialize the registry's copy of a source carries `meta` timestamps, which
    # plan reports as an update although the definition did not change.
    return any(
        prop.property_name != "meta"
        and _without_meta(prop.val_existing) != _without_meta(prop.val_declared)
        for prop in diff.feast_object_property_diffs
    )


def _without_meta(value: object) -> object:
    if isinstance(value, Message) and "meta" in value.DESCRIPTOR.fields_by_name:
        value = type(value).FromString(value.SerializeToString())
        value.ClearField("meta")
    return value
