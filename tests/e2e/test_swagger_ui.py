"""BentoML's Swagger UI, used as a user would: expand POST /rank, "Try it out", send a real
user and candidates, read the answer. A real `bentoml serve` with the champion, seen in headless
Chromium; the screenshot is kept as docs/img/bentoml_swagger.png."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from worlds import known_users

from engageflow.aliases import CHAMPION
from engageflow.registry import connect
from engageflow.settings import Settings
from serving.launch import ServiceProcess, free_port
from serving.online_rows import catalog_ids

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "bentoml_swagger.png"
K = 3
# An element's box in page coordinates (a full-page clip), whatever the scroll position.
PAGE_BOX = (
    "e => { const r = e.getBoundingClientRect();"
    " return {x: r.x + scrollX, y: r.y + scrollY, width: r.width, height: r.height}; }"
)


@pytest.fixture
def ranker(champion_world: Settings, tmp_path: Path) -> Iterator[str]:
    """`bentoml serve` on a free port; every slate from the champion (no canary, no explore)."""
    serving = champion_world.serving.model_copy(
        update={"port": free_port(), "canary_share": 0.0, "epsilon": 0.0}
    )
    settings = champion_world.model_copy(update={"serving": serving})
    service = ServiceProcess(settings, tmp_path / "bentoml.log").start()
    try:
        yield service.wait_ready().url
    finally:
        service.stop()


def test_rank_from_the_swagger_ui(champion_world: Settings, ranker: str, browser) -> None:
    user = known_users(champion_world, 1)[0]
    candidates = catalog_ids(champion_world.root)[:8]
    body = {"user_id": user, "candidates": candidates, "k": K}
    registry = champion_world.mlflow.registered_model
    champion = connect(champion_world).get_model_version_by_alias(registry, CHAMPION)

    page = browser.new_page()
    page.goto(f"{ranker}/", wait_until="networkidle")
    operation = page.locator(".opblock-post").filter(has_text="/rank")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.locator("textarea.body-param__text").fill(json.dumps(body, indent=2))
    operation.get_by_role("button", name="Execute").click()

    answer = operation.locator(".live-responses-table tbody tr.response")
    answer.wait_for(timeout=30_000)
    assert answer.locator(".response-col_status").inner_text().strip() == "200"
    shown = json.loads(answer.locator(".response-col_description pre").first.inner_text())
    items = [item["item_id"] for item in shown["items"]]
    assert len(items) == K and len(set(items)) == K and set(items) <= set(candidates)
    assert shown["user_id"] == user
    assert (shown["policy"], shown["model_version"]) == ("champion", str(champion.version))

    # From the operation's header down to the server's answer: what a user looks at.
    top = operation.evaluate(PAGE_BOX)
    bottom = operation.locator(".live-responses-table").evaluate(PAGE_BOX)
    clip = {**top, "height": bottom["y"] + bottom["height"] - top["y"] + 10}
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True, clip=clip)
    assert SCREENSHOT.stat().st_size > 10_000
