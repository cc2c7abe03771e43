"""The feature sources a ranking worker reads through: per model, its layout and item table.

An item table is a few seconds of Python to load, beside the request path (GIL), so it is
reloaded only when Feast records a materialization, a newer catalog lands, the loaded models
change, or `cache_ttl_seconds` passes; a table that fails to load keeps its older rows.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from engageflow import lake
from engageflow.settings import Settings
from feature_repo.store import materialization_marks, materialized_through
from serving.feature_layout import FeatureLayout, build_layout
from serving.model_slot import LoadedModel
from serving.online_rows import ItemTable, catalog_ids, load_items

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Source:
    """What one model's features are read through: its layout and the item table."""

    layout: FeatureLayout
    items: ItemTable
    popularity: np.ndarray  # item table column the fallback ranks by, NaN -> 0


def serving_store(settings: Settings):
    """A FeatureStore whose registry never expires on a request (the refresher re-reads it) and
    whose Redis client gives up at once (the fallback serves an outage)."""
    from feast import FeatureStore

    from feature_repo.compat import no_registry_refresh_on_read, redis_fails_fast
    from feature_repo.store import repo_config

    config = repo_config(settings)
    no_registry_refresh_on_read(config)
    store = FeatureStore(repo_path=str(config.repo_path), config=config)
    redis_fails_fast(store)  # the request's fallback answers an outage, not a retry
    return store


def source_key(model: LoadedModel, settings: Settings) -> tuple:
    """A model's source: its FeatureService (or the training default) and feature names."""
    return (model.feature_service or settings.training.feature_service, tuple(model.feature_names))


class FeatureSources:
    """The loaded sources by `source_key`, why any could not load, and what they were loaded
    from; swapped whole on a reload, so a request sees the old set or the new one."""

    def __init__(self, settings: Settings, store) -> None:
        self.settings, self.store = settings, store
        self.by_key: dict[tuple, Source] = {}
        self.errors: dict[tuple, str] = {}
        self.features_through: datetime | None = None  # every view materialized this far
        self._loaded_marks: tuple | None = None  # what the item tables were loaded from

    def get(self, model: LoadedModel) -> Source | None:
        return self.by_key.get(source_key(model, self.settings))

    def any(self) -> Source | None:
        return next(iter(self.by_key.values()), None)

    def changed(self) -> bool:
        """Whether Feast recorded a materialization, or a newer catalog landed, since the item
        tables loaded. Only then (or past `cache_ttl_seconds`) are they reloaded: a reload is
        ~2 s of Python beside the request path (GIL), which stalled its p99 once a TTL."""
        self.store.refresh_registry()
        return self._marks() != self._loaded_marks

    def expired(self) -> bool:
        oldest = min((s.items.loaded_at for s in self.by_key.values()), default=0.0)
        return time.monotonic() - oldest >= self.settings.serving.cache_ttl_seconds

    def _marks(self) -> tuple:
        days = list(lake.partition_days(self.settings.root, "lake", "items"))
        return materialization_marks(self.store), tuple(days[-1:])

    def refresh(self, models: dict[str, LoadedModel]) -> None:
        """Re-read the registry and every model's item table; keep old ones on failure."""
        try:
            self.store.refresh_registry()
            through, marks = materialized_through(self.store), self._marks()
            ids = catalog_ids(self.settings.root)
        except Exception:
            log.exception("feature registry or catalog unreadable; keeping the loaded tables")
            return
        sources = {}
        # Before the first champion the fallback still ranks by popularity: the service a new
        # model will train on names it (no columns, just the popularity feature).
        wanted = {source_key(m, self.settings): f"{m.alias} v{m.version}" for m in models.values()}
        if not wanted:
            wanted[(self.settings.training.feature_service, ())] = "the fallback"
        for key, who in wanted.items():
            try:
                layout = build_layout(
                    self.store, key[0], list(key[1]), self.settings.serving.popularity_feature
                )
                items = load_items(self.store, layout, ids)
            except Exception as err:
                message = f"{type(err).__name__}: {err}"
                if self.errors.get(key) != message:  # once per distinct problem
                    log.warning("cannot load the features of %s: %s", who, message)
                self.errors[key] = message
                if key in self.by_key:
                    sources[key] = self.by_key[key]
                continue
            self.errors.pop(key, None)
            pop = items.matrix[:, layout.item_names.index(layout.popularity)]
            sources[key] = Source(layout, items, np.nan_to_num(pop, nan=0.0))
        self.by_key = sources  # one assignment: a request sees the old or the new set
        if not any(key in self.errors for key in wanted):
            # A table that failed keeps its older rows: claiming the new materialization would
            # let the loop go on, and stop the retry at the next reload interval.
            self.features_through, self._loaded_marks = through, marks
