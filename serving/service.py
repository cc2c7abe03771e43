"""The BentoML service: `POST /rank`, `GET /models`, readiness, and a clean shutdown that flushes
the log.

Thin on purpose: pydantic models in and out (they document /docs), the ranking itself is
`RankingEngine.rank` (engine.py). BentoML APIs are POST only, so `GET /models` is a FastAPI class
view mounted with `bentoml.asgi_app`; the API key (auth.py) is an ASGI middleware. Start it with
`engageflow serve` (workers and threads come from settings.serving through BentoML's config
overrides, see launch.py).
"""

from __future__ import annotations

import gc
import logging

import bentoml
from fastapi import FastAPI
from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from engageflow.registry import package_version
from serving.auth import ApiKeyMiddleware
from serving.compat import described_service
from serving.engine import BadRankRequest, RankingEngine
from serving.schemas import ModelsResponse, RankRequest, RankResponse

log = logging.getLogger(__name__)
TITLE = "engageflow ranker"
DESCRIPTION = """\
Ranks candidate items for a user with the engagement model MLflow calls `champion` (or, for the
canary's share of users, the `challenger`), on features read from Feast's online store. A new
user is scored on missing user features; an unreachable store or no model gets the popularity
fallback; every served slate is logged with its propensities for off-policy evaluation.

`POST /rank` takes a pseudonymous `user_id` and up to 1000 `candidates`; `GET /models` says
which model versions and FeatureServices this worker serves."""
# Only the routes declared below; BentoML serves the docs (/docs.json, /) for everything.
extra_routes = FastAPI(title="Ranker", docs_url=None, redoc_url=None, openapi_url=None)


@bentoml.asgi_app(extra_routes, path="/")
@bentoml.service(
    name="Ranker",
    description=DESCRIPTION,
    service_class=described_service(TITLE, package_version()),
)
class Ranker:
    """Ranks candidates for a user with the champion (or the canary's challenger)."""

    def __init__(self) -> None:
        from engageflow.settings import get_settings

        self.engine = RankingEngine(get_settings())
        self.engine.start()
        # Start-up objects live forever: keep them out of every later collection (p99 5x).
        gc.collect()
        gc.freeze()

    def __is_ready__(self) -> bool:
        """Ready once a champion and its features are loaded (until then /readyz says 503)."""
        return self.engine.ready

    @bentoml.api(route="/rank", input_spec=RankRequest, output_spec=RankResponse)
    async def rank(self, **fields) -> RankResponse:
        """Rank `candidates` for `user_id`: the best `k` with scores and propensities."""
        request = RankRequest.model_construct(**fields)  # already validated by BentoML
        try:
            # Async: on the event loop, no hop to BentoML's thread pool and back (the feature
            # read still runs in the engine's pool, awaited under its timeout).
            return await self.engine.rank_async(request)
        except BadRankRequest as err:
            raise _as_validation_error(err) from None

    @extra_routes.get("/models", response_model=ModelsResponse)
    def models(self) -> ModelsResponse:
        """The champion and challenger this worker serves: version and FeatureService."""
        return self.engine.loaded()

    @bentoml.on_shutdown
    def flush(self) -> None:
        self.engine.close()
        log.info("prediction log flushed: %d rows", self.engine.predictions.written_rows)


Ranker.add_asgi_middleware(ApiKeyMiddleware)


def _as_validation_error(err: BadRankRequest) -> ValidationError:
    """The service's own limits reported like pydantic's (HTTP 400 with the same JSON shape)."""
    detail = InitErrorDetails(
        type=PydanticCustomError("limit", str(err)), loc=(err.field,), input=err.value
    )
    return ValidationError.from_exception_data("RankRequest", [detail])
