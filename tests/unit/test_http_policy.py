"""The simulator's HTTP policy: request bodies and parsing the service's answers into Slates."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from engageflow.settings import Settings
from engageflow.simulator import simulate_day
from engageflow.simulator.policies import SlateRequests, Slates
from serving.http_policy import PolicyError, request_body, slates_from_responses

REQUESTS = SlateRequests(
    request_ids=np.array(["r1", "r2"], dtype=object),
    user_ids=np.array(["u1", "u2"], dtype=object),
    candidates=np.array([["a", "b", "c"], ["d", "e", "f"]], dtype=object),
    device=np.array(["mobile", "desktop"], dtype=object),
    hour=np.array([9, 23]),
    k=2,
    ts=np.array(["2026-01-01T09:00:00.250", "2026-01-01T23:59:59"], dtype="datetime64[us]"),
)


def _reply(request_id: str, items: list[str], policy: str = "champion", p: float = 1.0) -> dict:
    return {
        "request_id": request_id,
        "user_id": "u",
        "policy": policy,
        "model_version": None if policy == "fallback" else "3",
        "reason": "",
        "items": [
            {"item_id": item, "score": 1.0 - n / 10, "position": n, "propensity": p}
            for n, item in enumerate(items)
        ],
    }


def test_request_body_carries_the_candidates_and_the_simulated_time() -> None:
    assert request_body(REQUESTS, 0) == {
        "user_id": "u1",
        "candidates": ["a", "b", "c"],
        "k": 2,
        "context": {"device": "mobile", "hour": 9, "request_ts": 1767258000.25},
    }


def test_responses_become_slates_with_the_service_request_ids() -> None:
    slates = slates_from_responses(
        REQUESTS, [_reply("s1", ["c", "a"]), _reply("s2", ["e", "d"], "explore", 2 / 3)]
    )
    assert slates.chosen.tolist() == [[2, 0], [1, 0]]
    np.testing.assert_allclose(slates.propensity, [[1, 1], [2 / 3, 2 / 3]])
    assert slates.policy.tolist() == ["champion", "explore"]
    assert slates.model_version.tolist() == ["3", "3"]
    assert slates.request_ids.tolist() == ["s1", "s2"]


@pytest.mark.parametrize(
    ("replies", "says"),
    [
        ([_reply("s1", ["a", "b"])], "1 responses for 2 requests"),
        ([_reply("s1", ["a"]), _reply("s2", ["d", "e"])], "returned 1 items, not 2"),
        ([_reply("s1", ["a", "z"]), _reply("s2", ["d", "e"])], "non-candidates"),
    ],
)
def test_unusable_answers_fail_loudly(replies: list[dict], says: str) -> None:
    with pytest.raises(PolicyError, match=says):
        slates_from_responses(REQUESTS, replies)


def test_events_carry_the_policy_request_ids(settings: Settings) -> None:
    def served(requests: SlateRequests, rng: np.random.Generator) -> Slates:
        n, k = len(requests.user_ids), requests.k
        assert requests.ts is not None and len(requests.ts) == n
        return Slates(
            chosen=np.tile(np.arange(k), (n, 1)),
            propensity=np.ones((n, k)),
            policy=np.full(n, "champion", dtype=object),
            model_version=np.full(n, "7", dtype=object),
            request_ids=np.array([f"svc-{i}" for i in range(n)], dtype=object),
        )

    config = settings.simulation
    traffic = simulate_day(config, settings.labels, settings.seed, date(2026, 1, 1), served)
    events = traffic.events.to_pandas()
    assert set(events["request_id"]) == {f"svc-{i}" for i in range(config.requests_per_day)}
    assert set(traffic.truth.column("request_id").to_pylist()) == set(events["request_id"])
    assert (events["model_version"] == "7").all()


def test_a_service_that_does_not_answer_is_named_with_what_to_start(settings) -> None:
    from engageflow.app.simulate import UnknownPolicy, simulate_served_day, slate_policy
    from serving.http_policy import ServiceUnavailable
    from serving.launch import free_port

    settings.serving.port = free_port()  # nothing listens there
    url = f"http://127.0.0.1:{settings.serving.port}"
    with pytest.raises(ServiceUnavailable, match="engageflow serve") as caught:
        simulate_served_day(settings, settings.simulation.start, "service")
    assert url in str(caught.value) and "engageflow up" in str(caught.value)
    assert not (settings.root / "landing").exists()  # nothing landed
    with pytest.raises(UnknownPolicy, match="'random'"):
        slate_policy(settings, "best-guess")
    assert slate_policy(settings, "random") is not None
