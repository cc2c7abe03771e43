"""The API key over real HTTP: refused without it, served with it, never written anywhere; and
`GET /models` reporting what the service loaded, following a promotion."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import mlflow
import pytest
from pydantic import SecretStr
from worlds import known_users

from engageflow.registry import connect
from engageflow.settings import Settings
from serving.http_policy import served_models, wait_until_serving
from serving.online_rows import catalog_ids

pytestmark = pytest.mark.integration
MODEL = "engagement_ranker"


def test_rank_needs_the_api_key_and_no_log_holds_it(
    world: Settings, serve, planted_key: str, tmp_path: Path
) -> None:
    key_file = tmp_path / "secrets" / "ranker.key"
    key_file.parent.mkdir()
    key_file.write_text(planted_key + "\n")
    server = serve(world, api_key_file=key_file, log_flush_seconds=0.5)
    body = {"user_id": known_users(world, 1)[0], "candidates": catalog_ids(world.root)[:20]}
    url = f"{server.url}/rank"
    attempts = {
        "none": {},
        "wrong": {"Authorization": f"Bearer {planted_key[:-1]}x"},
        "not bearer": {"Authorization": f"Basic {planted_key}"},
        "bare key": {"Authorization": planted_key},
    }
    for name, headers in attempts.items():
        reply = httpx.post(url, json=body, headers=headers)
        assert reply.status_code == 401, (name, reply.text)
        assert "Authorization: Bearer <key>" in reply.json()["error"]
        assert planted_key not in reply.text
        assert reply.headers["www-authenticate"].startswith("Bearer")
    assert httpx.get(f"{server.url}/models").status_code == 401
    served = [httpx.post(url, json=body, headers=server.headers) for _ in range(5)]
    assert [r.status_code for r in served] == [200] * 5
    assert {r.json()["policy"] for r in served} <= {"champion", "explore"}
    for open_path in ("/livez", "/readyz", "/docs.json"):  # probes and docs stay open
        assert httpx.get(f"{server.url}{open_path}").status_code == 200, open_path
    assert server.stop(signal.SIGTERM) is not None  # flushes the prediction log
    log_text = server.log_path.read_text()
    assert "401" in log_text  # the refusals were logged (by the key's middleware) ...
    secret = planted_key.encode()
    written = [p for p in world.root.rglob("*") if p.is_file() and secret in p.read_bytes()]
    assert planted_key not in log_text and written == []  # ... the key never was
    predictions = list((world.root / "lake" / "predictions").rglob("*.parquet"))
    assert predictions, "the served slates were not logged"


def test_models_reports_what_serves_and_follows_a_promotion(
    world: Settings, serve, planted_key: str
) -> None:
    server = serve(world, api_key=SecretStr(planted_key), reload_interval_seconds=1.0, workers=2)
    loaded = served_models(server.url, planted_key)
    champion = loaded["champion"]
    assert champion["feature_service"] == "ranker_v1" and champion["features_loaded"] is True
    before = int(champion["version"])
    client = connect(world)
    source = client.get_model_version(MODEL, str(before))
    new = int(mlflow.register_model(f"runs:/{source.run_id}/model", MODEL).version)
    client.set_registered_model_alias(MODEL, "champion", str(new))
    client.set_registered_model_alias(MODEL, "challenger", str(before))
    try:
        wait_until_serving(server.url, new, planted_key, timeout=30, challenger=before)
        loaded = served_models(server.url, planted_key)
        assert loaded["champion"]["version"] == str(new)
        reply = httpx.post(
            f"{server.url}/rank",
            json={"user_id": known_users(world, 1)[0], "candidates": catalog_ids(world.root)[:20]},
            headers=server.headers,
        )
        assert reply.json()["model_version"] in {str(new), str(before)}  # canary may pick v1
        challenger = loaded["challenger"]
        assert challenger is None or challenger["version"] == str(before)
    finally:  # leave the shared world as the other tests expect it
        client.set_registered_model_alias(MODEL, "champion", str(before))
        client.delete_registered_model_alias(MODEL, "challenger")
