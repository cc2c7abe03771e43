"""The API key: where it comes from, how it is checked, and how it reaches the workers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from engageflow.settings import ServingConfig, Settings
from serving.auth import ApiKeyError, ApiKeyMiddleware, api_key, bearer_header, is_authorized
from serving.launch import serve_env


def test_the_key_comes_from_the_setting_or_its_file(tmp_path: Path) -> None:
    assert api_key(ServingConfig()) is None
    assert api_key(ServingConfig(api_key=" k1 ")) == "k1"
    path = tmp_path / "key"
    path.write_text("k2\n")
    assert api_key(ServingConfig(api_key_file=path)) == "k2"


@pytest.mark.parametrize("content", [None, "", "  \n"])
def test_a_missing_or_empty_key_file_is_a_clear_error(tmp_path: Path, content) -> None:
    path = tmp_path / "key"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ApiKeyError, match=r"serving\.api_key_file .*key"):
        api_key(ServingConfig(api_key_file=path))


def test_key_and_key_file_together_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="not both"):
        ServingConfig(api_key="k", api_key_file=tmp_path / "key")


def test_only_the_exact_bearer_token_passes() -> None:
    assert is_authorized(b"Bearer sekret", b"sekret")
    assert is_authorized(b"bearer sekret", b"sekret")
    for header in (None, b"", b"sekret", b"Basic sekret", b"Bearer sekre", b"Bearer sekret2"):
        assert not is_authorized(header, b"sekret"), header


def _app(key: str | None) -> TestClient:
    def hello(request):
        return PlainTextResponse("ok")

    routes = [Route(path, hello, methods=["GET", "POST"]) for path in ("/rank", "/livez")]
    app = Starlette(routes=routes)
    app.add_middleware(ApiKeyMiddleware, key=key)
    return TestClient(app)


def test_the_middleware_guards_all_but_the_open_paths() -> None:
    client = _app("sekret")
    refused = client.post("/rank")
    assert refused.status_code == 401 and "missing API key" in refused.json()["error"]
    assert client.post("/rank", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.post("/rank", headers=bearer_header("sekret")).text == "ok"
    assert client.get("/livez").text == "ok"
    assert client.get("/nowhere").status_code == 401  # unknown paths are not a way around it


def test_the_workers_get_the_key_itself_not_its_mask() -> None:
    settings = Settings(serving={"api_key": "sekret"})
    env = serve_env(settings, base={})
    assert json.loads(env["ENGAGEFLOW_SERVING"])["api_key"] == "sekret"
    assert "sekret" not in env["ENGAGEFLOW_FEAST"] + env["ENGAGEFLOW_MLFLOW"]
    assert bearer_header(None) == {}
