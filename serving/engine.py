"""The ranking service without HTTP: models, feature sources, one `rank` call, the prediction log.

The BentoML class (service.py) holds one engine per worker. Everything slow happens in a
background thread: following the MLflow aliases, re-reading the Feast registry and reloading the
item table. A request does one online read for its user (in a worker thread, bounded by
`feature_timeout_ms`), a NumPy gather, the on-demand columns and `inplace_predict`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
import uuid
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from engageflow import lake
from engageflow.settings import ServingConfig, Settings
from feature_repo.store import materialization_marks, materialized_through
from serving.feature_layout import USER_KEY, FeatureLayout, build_layout
from serving.features import (
    feature_matrix,
    gather_items,
    is_unknown_user,
    missing_ids,
    snapshot_hash,
)
from serving.model_slot import LoadedModel, ModelSlot
from serving.online_rows import ItemTable, catalog_ids, load_items, read_rows
from serving.prediction_log import PredictionLog, ServedSlate
from serving.ranking import Decision, decide, route
from serving.schemas import LoadedModelInfo, ModelsResponse, RankedItem, RankRequest, RankResponse

log = logging.getLogger(__name__)


class BadRankRequest(ValueError):
    """A request pydantic accepts but the service's limits refuse; the message says which."""

    def __init__(self, field: str, value: object, message: str) -> None:
        super().__init__(message)
        self.field, self.value = field, value


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


def request_time(context: dict) -> datetime:
    """`context["request_ts"]` (epoch seconds, for replays and the simulator) or now, in UTC."""
    stamp = context.get("request_ts")
    if isinstance(stamp, int | float) and not isinstance(stamp, bool):
        return datetime.fromtimestamp(stamp, UTC)
    return datetime.now(UTC)


def check_limits(request: RankRequest, config: ServingConfig) -> None:
    """Limits beyond the schema's (k, candidate count, duplicates); BadRankRequest if broken."""
    candidates = request.candidates
    if request.k > config.max_k:
        raise BadRankRequest("k", request.k, f"k must be at most {config.max_k}")
    if len(candidates) > config.max_candidates:
        raise BadRankRequest(
            "candidates",
            len(candidates),
            f"{len(candidates)} candidates; send at most {config.max_candidates}",
        )
    if len(set(candidates)) != len(candidates):
        seen: set[str] = set()
        repeated = sorted({c for c in candidates if c in seen or seen.add(c)})
        raise BadRankRequest(
            "candidates", repeated[:5], f"candidates must be distinct; repeated: {repeated[:5]}"
        )


@dataclass(frozen=True)
class PendingRead:
    """A request between routing and scoring: its model, source and feature read in flight."""

    request: RankRequest
    at: datetime
    model: LoadedModel | None
    source: Source | None
    popularity: np.ndarray
    future: Future | None  # the online read; None when there is nothing to read
    why: str  # why there is no read (the fallback's reason)


class RankingEngine:
    def __init__(self, settings: Settings, store=None, client=None) -> None:
        from engageflow.registry import connect

        self.settings, self.config = settings, settings.serving
        self.store = store if store is not None else serving_store(settings)
        self.slot = ModelSlot(client or connect(settings), settings.mlflow.registered_model)
        self.sources: dict[tuple, Source] = {}
        self._source_errors: dict[tuple, str] = {}
        self.features_through: datetime | None = None  # every view materialized this far
        self._loaded_marks: tuple | None = None  # what the item tables were loaded from
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="feature-read")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        writer = f"ranker-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.predictions = PredictionLog(
            settings.root, writer, self.config.log_batch_rows, self.config.log_flush_seconds
        )

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self, background: bool = True) -> None:
        """Load models and item tables now; then keep them fresh in a background thread."""
        self.slot.refresh()
        self.refresh_sources()
        if background:
            self._thread = threading.Thread(target=self._loop, name="refresher", daemon=True)
            self._thread.start()

    @property
    def ready(self) -> bool:
        """A champion is loaded and its features can be read."""
        champion = self.slot.models.get("champion")
        return champion is not None and _key(champion, self.settings) in self.sources

    def loaded(self) -> ModelsResponse:
        """The models this engine serves now, with their FeatureService and feature state."""
        models, sources = self.slot.models, self.sources
        info = {
            alias: LoadedModelInfo(
                version=model.version,
                feature_service=_key(model, self.settings)[0],
                features_loaded=_key(model, self.settings) in sources,
            )
            for alias, model in models.items()
        }
        return ModelsResponse(
            champion=info.get("champion"),
            challenger=info.get("challenger"),
            features_through=self.features_through,
        )

    def close(self) -> None:
        """Stop refreshing and flush the prediction log (a clean shutdown loses no slate)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.predictions.close()

    def _loop(self) -> None:
        tick = min(self.config.reload_interval_seconds, max(self.config.cache_ttl_seconds, 0.5))
        next_reload = time.monotonic() + self.config.reload_interval_seconds
        while not self._stop.wait(tick):
            try:
                changed = False
                if time.monotonic() >= next_reload:
                    # A new day materialized changes the item tables (popularity, new items)
                    # now, not a cache TTL later: the loop replays days reproducibly so.
                    changed = self.slot.refresh() | self._features_changed()
                    next_reload = time.monotonic() + self.config.reload_interval_seconds
                if changed or self._cache_expired():
                    self.refresh_sources()
            except Exception:  # keep serving what is loaded; try again next tick
                log.exception("background refresh failed")

    def _features_changed(self) -> bool:
        """Whether Feast recorded a materialization, or a newer catalog landed, since the item
        tables loaded. Only then (or past `cache_ttl_seconds`) are they reloaded: a reload is
        ~2 s of Python beside the request path (GIL), which stalled its p99 once a TTL."""
        self.store.refresh_registry()
        return self._marks() != self._loaded_marks

    def _marks(self) -> tuple:
        days = list(lake.partition_days(self.settings.root, "lake", "items"))
        return materialization_marks(self.store), tuple(days[-1:])

    def _cache_expired(self) -> bool:
        oldest = min((s.items.loaded_at for s in self.sources.values()), default=0.0)
        return time.monotonic() - oldest >= self.config.cache_ttl_seconds

    def refresh_sources(self) -> None:
        """Re-read the registry and every loaded model's item table; keep old ones on failure."""
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
        wanted = {
            _key(m, self.settings): f"{m.alias} v{m.version}" for m in self.slot.models.values()
        }
        if not wanted:
            wanted[(self.settings.training.feature_service, ())] = "the fallback"
        for key, who in wanted.items():
            try:
                layout = build_layout(
                    self.store, key[0], list(key[1]), self.config.popularity_feature
                )
                items = load_items(self.store, layout, ids)
            except Exception as err:
                message = f"{type(err).__name__}: {err}"
                if self._source_errors.get(key) != message:  # once per distinct problem
                    log.warning("cannot load the features of %s: %s", who, message)
                self._source_errors[key] = message
                if key in self.sources:
                    sources[key] = self.sources[key]
                continue
            self._source_errors.pop(key, None)
            pop = items.matrix[:, layout.item_names.index(layout.popularity)]
            sources[key] = Source(layout, items, np.nan_to_num(pop, nan=0.0))
        self.sources = sources  # one assignment: a request sees the old or the new set
        if not any(key in self._source_errors for key in wanted):
            # A table that failed keeps its older rows: claiming the new materialization would
            # let the loop go on, and stop the retry at the next reload interval.
            self.features_through, self._loaded_marks = through, marks

    # -- the request path --------------------------------------------------------------------
    def rank(self, request: RankRequest) -> RankResponse:
        """Rank the candidates; any feature problem answers from the fallback, never an error."""
        started = time.perf_counter()
        pending = self._submit(request)
        return self._answer(pending, *self._wait(pending), started)

    async def rank_async(self, request: RankRequest) -> RankResponse:
        """`rank` for an event loop: the same answer, the feature read awaited, not blocked on
        (BentoML runs an async API on its event loop, without a hop to its thread pool)."""
        started = time.perf_counter()
        pending = self._submit(request)
        return self._answer(pending, *await self._wait_async(pending), started)

    def features_for(self, model: LoadedModel | None, request: RankRequest, at: datetime):
        """(matrix or None, popularity, why no matrix or a note on it) for this request's model."""
        pending = self._read_for(model, request, at)
        return self._features(pending, *self._wait(pending))

    def _submit(self, request: RankRequest) -> PendingRead:
        """Check the limits, route the request and start its feature read."""
        check_limits(request, self.config)
        at = request_time(request.context)
        return self._read_for(route(request.user_id, self.slot.models, self.config), request, at)

    def _read_for(self, model: LoadedModel | None, request: RankRequest, at: datetime):
        """The request's model, source and popularity, with its online read submitted (or why
        there is none: no model, or that model's features not loaded)."""
        source = self.sources.get(_key(model, self.settings)) if model is not None else None
        if source is None:
            source = next(iter(self.sources.values()), None)
            popularity = (
                np.zeros(len(request.candidates))
                if source is None
                else source.popularity[source.items.rows(request.candidates)]
            )
            if model is None:
                return PendingRead(request, at, None, None, popularity, None, "no model loaded")
            key = _key(model, self.settings)
            why = f"features of v{model.version} not loaded: " + (
                self._source_errors.get(key, "loading")
            )
            return PendingRead(request, at, model, None, popularity, None, why)
        popularity = source.popularity[source.items.rows(request.candidates)]
        future = self._pool.submit(self._read, source, request.user_id, request.candidates)
        return PendingRead(request, at, model, source, popularity, future, "")

    def _wait(self, pending: PendingRead) -> tuple[tuple | None, str]:
        """(the read's result or None, why None), waiting at most `feature_timeout_ms`."""
        if pending.future is None:
            return None, pending.why
        try:
            return pending.future.result(timeout=self.config.feature_timeout_ms / 1e3), ""
        except TimeoutError:
            pending.future.cancel()
            return None, self._timed_out()
        except Exception as err:  # the online store is down or refusing
            return None, _unavailable(err)

    async def _wait_async(self, pending: PendingRead) -> tuple[tuple | None, str]:
        """`_wait` without blocking the event loop (wait_for cancels the read on a timeout)."""
        if pending.future is None:
            return None, pending.why
        timeout = self.config.feature_timeout_ms / 1e3
        try:
            return await asyncio.wait_for(asyncio.wrap_future(pending.future), timeout), ""
        except TimeoutError:
            return None, self._timed_out()
        except Exception as err:  # the online store is down or refusing
            return None, _unavailable(err)

    def _timed_out(self) -> str:
        return f"feature read exceeded {self.config.feature_timeout_ms} ms"

    def _features(self, pending: PendingRead, read: tuple | None, why: str):
        """(matrix or None, popularity, why) once the read is back or given up."""
        if read is None:
            return None, pending.popularity, why
        user, extra = read
        source = pending.source
        # A user without online rows is scored by the model on missing user features: it
        # trained on such impressions too (new users), so the fallback is only for outages.
        note = "new user: no online row" if is_unknown_user(source.layout, user) else ""
        items = gather_items(source.items, pending.request.candidates, extra)
        return feature_matrix(source.layout, user, items, pending.at), pending.popularity, note

    def _answer(self, pending: PendingRead, read, why: str, started: float) -> RankResponse:
        """Score (or fall back), log the served slate and build the response."""
        request, at = pending.request, pending.at
        features, popularity, why = self._features(pending, read, why)
        rng = self._rng(request.user_id, at)
        decision = decide(pending.model, features, popularity, request.k, self.config, rng, why)
        request_id = uuid.uuid4().hex
        shown = [request.candidates[i] for i in decision.order]
        latency_ms = (time.perf_counter() - started) * 1e3
        self.predictions.append(
            ServedSlate(
                request_id,
                at,
                request.user_id,
                shown,
                decision.scores,
                decision.propensity,
                decision.policy.value,
                decision.model_version,
                None if features is None else snapshot_hash(features),
                latency_ms,
            )
        )
        return _response(request_id, request.user_id, decision, shown)

    def _read(self, source: Source, user_id: str, candidates: list[str]):
        """The user's online row, and rows of candidates the item table does not hold."""
        rows = read_rows(self.store, source.layout.user_reads, USER_KEY, [user_id])
        missing = missing_ids(source.items, candidates)
        extra = load_items(self.store, source.layout, missing) if missing else None
        return {name: values[0] for name, values in rows.items()}, extra

    def _rng(self, user_id: str, at: datetime) -> np.random.Generator:
        """Exploration's randomness, seeded by the request (seed, user, time): a replayed day
        explores the same slates, so simulated loops are reproducible."""
        key = zlib.crc32(f"{user_id}|{at.isoformat()}".encode())
        return np.random.default_rng([self.settings.seed, key])


def _unavailable(err: Exception) -> str:
    return f"feature store unavailable: {type(err).__name__}"


def _key(model: LoadedModel, settings: Settings) -> tuple:
    return (model.feature_service or settings.training.feature_service, tuple(model.feature_names))


def _response(request_id: str, user_id: str, decision: Decision, shown: list[str]) -> RankResponse:
    items = [
        RankedItem(item_id=item, score=float(score), position=i, propensity=float(p))
        for i, (item, score, p) in enumerate(
            zip(shown, decision.scores, decision.propensity, strict=True)
        )
    ]
    return RankResponse(
        request_id=request_id,
        user_id=user_id,
        policy=decision.policy,
        model_version=decision.model_version,
        reason=decision.reason,
        items=items,
    )
