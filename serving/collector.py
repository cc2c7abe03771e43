"""The event collector: `POST /events` takes schema v1 events in batches, checks them with the
daily gate's rules, pseudonymizes users at the edge and appends them to the durable log.

Where it lives, and why: its own BentoML service (`engageflow collect`, port 3001), not a route
on the ranker. The ranker never holds the pseudonym key (serving/launch.py drops it from its
environment) while the collector needs it; checking a batch with the GX suite costs about
0.2 s of CPU per 100 events (and GX takes ~4 s to import), which on the ranker's workers would
sit on /rank's event loop and cores; and event traffic scales apart from ranking traffic.

Thin on purpose: the checks are serving/collect.py, the log engageflow/eventlog/. A refused
batch gets HTTP 400 with `problems`: each bad event's index, field, what is wrong and what to
send instead; nothing of it is stored.
"""

from __future__ import annotations

import logging

import bentoml
import pandas as pd
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from engageflow.registry import package_version
from serving.auth import ApiKeyMiddleware
from serving.collect import BadBatch, Problem, check_batch, pseudonymized
from serving.compat import described_service

log = logging.getLogger(__name__)
TITLE = "engageflow collector"
DESCRIPTION = """\
`POST /events` with `{"events": [...]}`: schema v1 events (event_id, ts as ISO 8601 with a zone,
raw user_id, item_id, event_type, and the optional fields), at most
`collector.max_batch_events` per batch. Accepted whole (200, with the log's entry ids) or
refused whole (400, naming each bad event's index and field)."""
routes = FastAPI(title="Collector", docs_url=None, redoc_url=None, openapi_url=None)


@bentoml.asgi_app(routes, path="/")
@bentoml.service(
    name="Collector",
    description=DESCRIPTION,
    service_class=described_service(TITLE, package_version()),
)
class Collector:
    """Checks, pseudonymizes and appends event batches to the configured log."""

    def __init__(self) -> None:
        from engageflow.eventlog import open_log
        from engageflow.pseudonym import load_key
        from engageflow.settings import get_settings

        self.settings = get_settings()
        self.key = load_key(self.settings)
        self.log = open_log(self.settings)
        check_batch(  # imports GX and builds its context now, not on the first request
            [_WARM_UP], self.settings.collector, self.settings.importer, pd.Timestamp(_WARM_TS)
        )

    @routes.post("/events")
    async def events(self, request: Request) -> JSONResponse:
        """Append one batch: 200 with the log's entry ids, or 400 naming what to fix."""
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("events"), list):
            problem = Problem(None, "events", 'the body is not {"events": [...]}', _SHAPE)
            return JSONResponse(BadBatch([problem]).to_json(), status_code=400)
        try:
            ids = await run_in_threadpool(self._append, body["events"])
        except BadBatch as err:
            return JSONResponse(err.to_json(), status_code=400)
        return JSONResponse({"accepted": len(body["events"]), "ids": ids})

    def _append(self, events: list) -> list[str]:
        now = pd.Timestamp.now(tz="UTC")
        checked = check_batch(events, self.settings.collector, self.settings.importer, now)
        return self.log.append(pseudonymized(checked, self.key))


_SHAPE = "send a JSON object whose `events` is a list of event objects"
_WARM_TS = "2026-01-01T12:00:00Z"
_WARM_UP = {
    "event_id": "warm-up",
    "ts": _WARM_TS,
    "user_id": "warm-up",
    "item_id": "warm-up",
    "event_type": "impression",
}


# The platform's API key (serving.api_key): event producers carry the same bearer token as
# /rank's clients, so one secret guards both doors.
Collector.add_asgi_middleware(ApiKeyMiddleware)
