"""Online values must equal the offline values as of the same time; a run fails when not."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from feast import FeatureStore

from engageflow import lake
from engageflow.errors import DataError
from engageflow.settings import Settings
from feature_repo.compat import historical_in_entity_order
from feature_repo.sources import AREA
from feature_repo.store import feature_store
from feature_repo.tables import KEY, TIMESTAMP, VIEWS, feature_names, table_schemas


class ParityError(DataError):
    """The online store disagrees with the offline store; rematerialize the named interval."""


@dataclass(frozen=True)
class Mismatch:
    view: str
    key: str
    feature: str
    online: object
    offline: object


def check_parity(settings: Settings, as_of: datetime) -> dict[str, int]:
    """Compare sampled entities of every view stamped `as_of`; raise ParityError on a difference.

    Returns how many entities were compared per view.
    """
    store = feature_store(settings)
    day = (as_of - pd.Timedelta(days=1)).date()
    compared, mismatches = {}, []
    for view in VIEWS:
        keys = sample_keys(settings, view, day)
        mismatches += view_mismatches(store, settings, view, keys, as_of)
        compared[view] = len(keys)
    if mismatches:
        shown = "; ".join(
            f"{m.view} {m.key} {m.feature}: online {m.online!r}, offline {m.offline!r}"
            for m in mismatches[:5]
        )
        raise ParityError(
            f"online store differs from the offline store as of {as_of} in {len(mismatches)} "
            f"values, e.g. {shown}. Rematerialize (`engageflow feast materialize "
            f"{day.isoformat()}T00:00:00 {as_of:%Y-%m-%dT%H:%M:%S}`) and rerun the check."
        )
    return compared


def sample_keys(settings: Settings, view: str, day) -> list[str]:
    """A seeded sample of the keys written for `day` (the same sample on every rerun)."""
    table = lake.read_partition(settings.root, AREA, view, day)
    if table is None:
        raise DataError(f"no {view} features for {day}: build them before checking parity")
    keys = np.array(sorted(table.column(KEY[view]).to_pylist()), dtype=object)
    size = min(settings.feast.parity_sample, len(keys))
    picked = np.random.default_rng(settings.seed).choice(len(keys), size, replace=False)
    return keys[np.sort(picked)].tolist()


def view_mismatches(
    store: FeatureStore, settings: Settings, view: str, keys: list[str], as_of: datetime
) -> list[Mismatch]:
    """Every (key, feature) whose online value differs from its offline value as of `as_of`."""
    if not keys:  # an optional view without rows (no user table imported)
        return []
    key = KEY[view]
    refs = [f"{view}:{name}" for name in feature_names(table_schemas(settings.feast)[view])]
    stamps = pd.Series(pd.Timestamp(as_of), index=range(len(keys))).astype("datetime64[us, UTC]")
    entity_df = pd.DataFrame({key: keys, TIMESTAMP: stamps})
    offline = historical_in_entity_order(store, entity_df, refs)
    online = store.get_online_features(features=refs, entity_rows=[{key: k} for k in keys])
    online_frame = pd.DataFrame(online.to_dict()).set_index(key).loc[keys]
    found = []
    for name in (ref.split(":", 1)[1] for ref in refs):
        for k, on, off in zip(keys, online_frame[name], offline[name], strict=True):
            if not same_value(on, off):
                found.append(Mismatch(view, k, name, on, off))
    return found


def same_value(online: object, offline: object) -> bool:
    """Equal, with missing == missing (None or NaN) and float32 round-off allowed."""
    if _missing(online) or _missing(offline):
        return _missing(online) and _missing(offline)
    if isinstance(online, str | bool | np.bool_) or isinstance(offline, str):
        return online == offline
    a, b = np.asarray(online, float), np.asarray(offline, float)
    return a.shape == b.shape and np.allclose(a, b, rtol=1e-6, equal_nan=True)


def _missing(value: object) -> bool:
    if value is None:
        return True
    return isinstance(value, float | np.floating) and np.isnan(value)
