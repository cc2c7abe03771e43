"""Every Feast object of the repo, built from settings; what `apply` registers."""

from __future__ import annotations

from dataclasses import dataclass

from feast import Entity, FeatureService, FeatureView, RequestSource
from feast.data_source import DataSource
from feast.on_demand_feature_view import OnDemandFeatureView

from engageflow.settings import Settings
from feature_repo.entities import entities
from feature_repo.feature_services import feature_services
from feature_repo.feature_views import feature_views
from feature_repo.on_demand import user_declared_match, user_item_match, user_item_similarity
from feature_repo.sources import batch_sources, request_source


@dataclass(frozen=True)
class Definitions:
    entities: dict[str, Entity]
    sources: dict[str, DataSource]
    request: RequestSource
    views: dict[str, FeatureView]
    on_demand: dict[str, OnDemandFeatureView]
    services: dict[str, FeatureService]

    def objects(self) -> list:
        """All objects, flat, in the order Feast's apply accepts."""
        return [
            *self.entities.values(),
            *self.sources.values(),
            self.request,
            *self.views.values(),
            *self.on_demand.values(),
            *self.services.values(),
        ]


def definitions(settings: Settings) -> Definitions:
    """Fresh objects every call: Feast's plan and apply mutate the objects they are given."""
    ents = entities()
    sources = batch_sources(settings)
    request = request_source()
    views = feature_views(settings, ents, sources)
    on_demand = {
        "user_item_match": user_item_match(views, request),
        "user_item_similarity": user_item_similarity(views),
        "user_declared_match": user_declared_match(views),
    }
    return Definitions(ents, sources, request, views, on_demand, feature_services(views, on_demand))
