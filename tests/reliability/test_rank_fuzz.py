"""Fuzz the live service from its own OpenAPI document (schemathesis): valid and invalid
requests to every operation it lists, with and without the API key; nothing may answer 5xx,
and successful answers must match the documented schemas. Plus the edge values schemathesis
cannot know about (the context's free-form `request_ts`), which once answered 500."""

from __future__ import annotations

import json
from collections import Counter

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from pydantic import SecretStr
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from engageflow.settings import Settings
from serving.launch import ServiceProcess

pytestmark = pytest.mark.integration
EXAMPLES = 150  # per generation mode; ~20 s against one worker


def _fuzz(schema, mode: GenerationMode, server: ServiceProcess, seen: Counter) -> None:
    """EXAMPLES generated requests of `mode`, with the key; counts (mode, operation, status)."""

    @given(case=schema.as_strategy(mode))
    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case) -> None:
        response = case.call(base_url=server.url, headers=server.headers, timeout=30)
        seen[(mode.value, case.operation.label, response.status_code)] += 1
        # Only our own schemas: BentoML documents its 400 `detail` as a string but sends
        # pydantic's list of errors.
        schemas = [response_schema_conformance] if response.status_code == 200 else []
        case.validate_response(response, checks=[not_a_server_error, *schemas])

    fuzz()


def test_no_request_from_the_openapi_spec_gets_a_5xx(
    world: Settings, serve, planted_key: str
) -> None:
    server = serve(world, api_key=SecretStr(planted_key))
    schema = schemathesis.openapi.from_url(f"{server.url}/docs.json")
    assert {"/rank", "/models"} <= set(schema.raw_schema["paths"])
    seen: Counter = Counter()

    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        _fuzz(schema, mode, server, seen)
    rank = {(mode, code) for (mode, label, code) in seen if label == "POST /rank"}
    assert ("positive", 200) in rank and ("negative", 400) in rank, seen
    assert not [key for key in seen if key[2] >= 500]
    for stamp in (1e20, -1.0, "yesterday", float("nan"), float("inf")):
        body = {"user_id": "u1", "candidates": ["i1"], "context": {"request_ts": stamp}}
        reply = httpx.post(  # json.dumps writes NaN and Infinity as JSON-ish literals
            f"{server.url}/rank",
            content=json.dumps(body),
            headers={**server.headers, "Content-Type": "application/json"},
        )
        assert reply.status_code == 400, (stamp, reply.text)
        assert "request_ts must be epoch seconds" in reply.json()["detail"][0]["msg"]
    # Without the key every guarded operation is refused, never an error.
    for label in ("POST /rank", "GET /models"):
        method, path = label.split()
        case = schema[path][method].as_strategy().example()
        assert case.call(base_url=server.url).status_code == 401
