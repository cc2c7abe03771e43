"""The ranking service without HTTP: models, feature sources, one `rank` call, the prediction log.

The BentoML class (service.py) holds one engine per worker. Everything slow happens in a
background thread: following the MLflow aliases, re-reading the Feast registry and reloading the
item tables (sources.py). A request does one online read for its user (in a worker thread,
bounded by `feature_timeout_ms`), a NumPy gather, the on-demand columns and `inplace_predict`.
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

from engageflow.settings import ServingConfig, Settings
from serving.feature_layout import USER_KEY
from serving.features import (
    feature_matrix,
    gather_items,
    is_unknown_user,
    missing_ids,
    snapshot_hash,
)
from serving.model_slot import LoadedModel, ModelSlot
from serving.online_rows import load_items, read_rows
from serving.prediction_log import PredictionLog, ServedSlate
from serving.ranking import Decision, decide, route
from serving.schemas import LoadedModelInfo, ModelsResponse, RankedItem, RankRequest, RankResponse
from serving.sources import FeatureSources, Source, serving_store, source_key

log = logging.getLogger(__name__)


class BadRankRequest(ValueError):
    """A request pydantic accepts but the service's limits refuse; the message says which."""

    def __init__(self, field: str, value: object, message: str) -> None:
        super().__init__(message)
        self.field, self.value = field, value


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
        self.sources = FeatureSources(settings, self.store)
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
        return champion is not None and self.sources.get(champion) is not None

    def loaded(self) -> ModelsResponse:
        """The models this engine serves now, with their FeatureService and feature state."""
        info = {
            alias: LoadedModelInfo(
                version=model.version,
                feature_service=source_key(model, self.settings)[0],
                features_loaded=self.sources.get(model) is not None,
            )
            for alias, model in self.slot.models.items()
        }
        return ModelsResponse(
            champion=info.get("champion"),
            challenger=info.get("challenger"),
            features_through=self.sources.features_through,
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
                    changed = self.slot.refresh() | self.sources.changed()
                    next_reload = time.monotonic() + self.config.reload_interval_seconds
                if changed or self.sources.expired():
                    self.refresh_sources()
            except Exception:  # keep serving what is loaded; try again next tick
                log.exception("background refresh failed")

    def refresh_sources(self) -> None:
        """Reload the item tables of the models loaded now (see FeatureSources.refresh)."""
        self.sources.refresh(self.slot.models)

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
        source = self.sources.get(model) if model is not None else None
        if source is None:
            source = self.sources.any()
            popularity = (
                np.zeros(len(request.candidates))
                if source is None
                else source.popularity[source.items.rows(request.candidates)]
            )
            if model is None:
                return PendingRead(request, at, None, None, popularity, None, "no model loaded")
            key = source_key(model, self.settings)
            why = f"features of v{model.version} not loaded: " + (
                self.sources.errors.get(key, "loading")
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
