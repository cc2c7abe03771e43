"""Where each of a model's columns comes from: the user's row, the item's row, or an on-demand view.

Built once per (FeatureService, model columns) from the Feast registry, so /rank never looks at
the registry: it reads the listed views of one user, gathers cached item rows and runs the
service's on-demand views with Feast's own transformation (`transform_dict`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from feast import FeatureStore, FeatureView
from feast.on_demand_feature_view import OnDemandFeatureView

USER_KEY, ITEM_KEY = "user_id", "item_id"
REQUEST_FIELDS = ("request_ts",)  # request data serving can supply to on-demand views


class LayoutError(ValueError):
    """A model cannot be served from its FeatureService; the message says what does not fit."""


@dataclass(frozen=True)
class ViewRead:
    """The features to read from one feature view, for one entity."""

    view: FeatureView
    names: tuple[str, ...]


@dataclass(frozen=True)
class OnDemand:
    """An on-demand view: its inputs by origin and the model columns its outputs fill."""

    view: OnDemandFeatureView
    user_inputs: tuple[str, ...]
    item_inputs: tuple[str, ...]
    request_inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    columns: np.ndarray  # where `outputs` go in the model's columns


@dataclass(frozen=True)
class FeatureLayout:
    service: str
    columns: tuple[str, ...]  # the model's column order
    user_reads: tuple[ViewRead, ...]
    item_reads: tuple[ViewRead, ...]
    user_names: tuple[str, ...]  # user features the model uses, in `user_columns` order
    user_columns: np.ndarray
    item_names: tuple[str, ...]  # columns of the item matrix: model item features + popularity
    item_columns: np.ndarray  # model columns filled from item_names[: len(item_columns)]
    on_demand: tuple[OnDemand, ...]
    popularity: str  # the item feature the fallback ranks by

    @property
    def item_inputs(self) -> tuple[str, ...]:
        """Item fields the on-demand views read (kept as Python values in the item table)."""
        return tuple(dict.fromkeys(n for od in self.on_demand for n in od.item_inputs))


def _side(view: FeatureView) -> str:
    keys = [column.name for column in view.entity_columns]
    if keys not in ([USER_KEY], [ITEM_KEY]):
        raise LayoutError(
            f"feature view {view.name} is keyed by {keys}; serving reads only "
            f"views keyed by {USER_KEY} or {ITEM_KEY}"
        )
    return keys[0]


def _reads(wanted: dict[str, dict[str, None]], views: dict[str, FeatureView], key: str):
    return tuple(
        ViewRead(views[name], tuple(names))
        for name, names in wanted.items()
        if _side(views[name]) == key
    )


def build_layout(
    store: FeatureStore, service_name: str, columns: list[str], popularity: str
) -> FeatureLayout:
    """Plan how to fill `columns` (a model's features) from `service_name`; LayoutError if not."""
    service = store.get_feature_service(service_name)
    odfvs = {v.name: v for v in store.list_on_demand_feature_views()}
    views: dict[str, FeatureView] = {}
    wanted: dict[str, dict[str, None]] = {}  # view -> feature names (ordered set)
    origin: dict[str, str] = {}  # model column -> view name
    on_demand_views: dict[str, OnDemandFeatureView] = {}

    def want(view_name: str, name: str) -> None:
        views.setdefault(view_name, store.get_feature_view(view_name))
        wanted.setdefault(view_name, {})[name] = None

    for projection in service.feature_view_projections:
        for feature in projection.features:
            origin[feature.name] = projection.name
        if projection.name in odfvs:
            odfv = on_demand_views[projection.name] = odfvs[projection.name]
            for source in odfv.source_feature_view_projections.values():
                for feature in source.features:
                    want(source.name, feature.name)
        else:
            for feature in projection.features:
                want(projection.name, feature.name)
    missing = [c for c in columns if c not in origin]
    if missing:
        raise LayoutError(f"model columns {missing} are not in FeatureService {service_name}")
    position = {name: i for i, name in enumerate(columns)}
    by_side = {USER_KEY: [], ITEM_KEY: []}
    for name in columns:
        if origin[name] not in on_demand_views:
            by_side[_side(views[origin[name]])].append(name)
    want(_popularity_view(store, wanted, views, popularity), popularity)
    return FeatureLayout(
        service=service_name,
        columns=tuple(columns),
        user_reads=_reads(wanted, views, USER_KEY),
        item_reads=_reads(wanted, views, ITEM_KEY),
        user_names=tuple(by_side[USER_KEY]),
        user_columns=np.array([position[n] for n in by_side[USER_KEY]], dtype=np.intp),
        item_names=tuple(dict.fromkeys([*by_side[ITEM_KEY], popularity])),
        item_columns=np.array([position[n] for n in by_side[ITEM_KEY]], dtype=np.intp),
        on_demand=tuple(
            _on_demand(odfv, views, position, origin) for odfv in on_demand_views.values()
        ),
        popularity=popularity,
    )


def _popularity_view(store: FeatureStore, wanted, views, name: str) -> str:
    """The item view holding the fallback's popularity feature."""
    for view_name, names in wanted.items():
        if name in names and _side(views[view_name]) == ITEM_KEY:
            return view_name
    item_views = [
        v for v in store.list_feature_views() if [c.name for c in v.entity_columns] == [ITEM_KEY]
    ]
    for view in item_views:
        if name in {f.name for f in view.features}:
            views.setdefault(view.name, view)
            return view.name
    raise LayoutError(
        f"popularity feature {name!r} (settings.serving.popularity_feature) is not a feature "
        f"of the item views {[v.name for v in item_views]}"
    )


def _on_demand(odfv: OnDemandFeatureView, views, position, origin) -> OnDemand:
    user, item = [], []
    for source in odfv.source_feature_view_projections.values():
        side = user if _side(views[source.name]) == USER_KEY else item
        side += [feature.name for feature in source.features]
    request = [f.name for src in odfv.source_request_sources.values() for f in src.schema]
    unknown = sorted(set(request) - set(REQUEST_FIELDS))
    if unknown:
        raise LayoutError(
            f"on-demand view {odfv.name} needs request fields {unknown}; serving "
            f"supplies only {list(REQUEST_FIELDS)}"
        )
    outputs = tuple(n for n, view in origin.items() if view == odfv.name and n in position)
    return OnDemand(
        odfv,
        tuple(user),
        tuple(item),
        tuple(request),
        outputs,
        np.array([position[n] for n in outputs], dtype=np.intp),
    )
