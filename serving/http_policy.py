"""The running ranking service as the simulator's policy: the loop closed over HTTP.

`engageflow simulate --policy http://127.0.0.1:3000` asks the service for every slate of a day
(a few concurrent connections), and the events carry the service's request ids, policies,
versions and propensities, so the prediction log joins the events on request_id.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import numpy as np

from engageflow.simulator.policies import SlateRequests, Slates
from serving.auth import bearer_header


class PolicyError(RuntimeError):
    """The service answered something the simulator cannot use; the message says what."""


class ServiceUnavailable(RuntimeError):
    """The ranking service does not answer: infrastructure, so Airflow retries it."""


def check_service(url: str, timeout_seconds: float = 5.0) -> None:
    """Fail with what to start when nothing answers `url`/livez (no champion is fine: the
    service then serves its fallback)."""
    import httpx

    probe = url.rstrip("/") + "/livez"
    try:
        reply = httpx.get(probe, timeout=timeout_seconds)
    except httpx.HTTPError as err:
        raise ServiceUnavailable(
            f"the ranking service at {url} does not answer ({type(err).__name__}: {err}). "
            "Start it with `engageflow serve` (or the whole stack with `engageflow up`), or "
            "simulate without it: policy 'random'."
        ) from None
    if reply.status_code != 200:
        raise ServiceUnavailable(
            f"the ranking service at {url} is not live ({probe} answered {reply.status_code}); "
            "see its log, or restart it with `engageflow serve`"
        )


def request_body(requests: SlateRequests, i: int) -> dict:
    """The /rank body for request `i`; its time goes in the context as epoch seconds."""
    context: dict[str, str | int | float] = {
        "device": str(requests.device[i]),
        "hour": int(requests.hour[i]),
    }
    if requests.ts is not None:
        micros = requests.ts[i].astype("datetime64[us]").astype(np.int64)
        context["request_ts"] = int(micros) / 1e6
    return {
        "user_id": str(requests.user_ids[i]),
        "candidates": [str(c) for c in requests.candidates[i]],
        "k": int(requests.k),
        "context": context,
    }


def slates_from_responses(requests: SlateRequests, responses: Sequence[dict]) -> Slates:
    """Turn /rank responses (JSON dicts, in request order) into the simulator's Slates."""
    n, k = len(responses), requests.k
    if n != len(requests.user_ids):
        raise PolicyError(f"{n} responses for {len(requests.user_ids)} requests")
    chosen = np.empty((n, k), dtype=np.int64)
    propensity = np.empty((n, k), dtype=np.float64)
    policy = np.empty(n, dtype=object)
    version = np.empty(n, dtype=object)
    ids = np.empty(n, dtype=object)
    for i, response in enumerate(responses):
        items = response["items"]
        if len(items) != k:
            raise PolicyError(f"request {i}: the service returned {len(items)} items, not {k}")
        where = {item: j for j, item in enumerate(requests.candidates[i])}
        unknown = [item["item_id"] for item in items if item["item_id"] not in where]
        if unknown:
            raise PolicyError(f"request {i}: the service returned non-candidates {unknown[:3]}")
        chosen[i] = [where[item["item_id"]] for item in items]
        propensity[i] = [item["propensity"] for item in items]
        policy[i], version[i] = response["policy"], response["model_version"]
        ids[i] = response["request_id"]
    return Slates(chosen, propensity, policy, version, request_ids=ids)


class HttpPolicy:
    """A SlatePolicy that asks the ranking service at `url` (its /rank endpoint)."""

    def __init__(
        self,
        url: str,
        concurrency: int = 4,
        timeout_seconds: float = 30.0,
        api_key: str | None = None,
    ) -> None:
        self.url = url.rstrip("/") + "/rank"
        self.concurrency, self.timeout = concurrency, timeout_seconds
        self.headers = bearer_header(api_key)

    def __call__(self, requests: SlateRequests, rng: np.random.Generator) -> Slates:
        import httpx  # comes with BentoML; imported here to keep the simulator light

        bodies = [request_body(requests, i) for i in range(len(requests.user_ids))]
        with (
            httpx.Client(timeout=self.timeout, headers=self.headers) as client,
            ThreadPoolExecutor(self.concurrency) as pool,
        ):

            def post(body: dict) -> dict:
                reply = client.post(self.url, json=body)
                if reply.status_code != 200:
                    raise PolicyError(
                        f"{self.url} answered {reply.status_code}: {reply.text[:300]}"
                    )
                return reply.json()

            responses = list(pool.map(post, bodies))
        return slates_from_responses(requests, responses)


def served_models(url: str, api_key: str | None = None, timeout: float = 5.0) -> dict:
    """`GET /models` of the service at `url`: what it serves now, by alias."""
    import httpx

    reply = httpx.get(url.rstrip("/") + "/models", headers=bearer_header(api_key), timeout=timeout)
    if reply.status_code != 200:
        raise PolicyError(f"{url}/models answered {reply.status_code}: {reply.text[:300]}")
    return reply.json()


def wait_until_serving(
    url: str,
    version: int | str | None,
    api_key: str | None = None,
    timeout: float = 60.0,
    challenger: int | str | None = None,
    features_through: datetime | None = None,
) -> None:
    """Block until the service's champion is `version` and its challenger `challenger` (None:
    none served), each with its features loaded, and its item tables hold the materialization
    ending at `features_through` (if given).

    Each worker follows the aliases on its own, so the answer must hold for several asks in a
    row (the requests spread over the workers).
    """
    from tenacity import RetryCallState, Retrying, retry_if_result

    wanted = {"champion": version, "challenger": challenger}
    in_a_row = 0

    def matches(served: dict | None, version: int | str | None) -> bool:
        if version is None:
            return served is None
        return bool(served) and served["version"] == str(version) and served["features_loaded"]

    def ask() -> dict:
        nonlocal in_a_row
        served = served_models(url, api_key)
        fresh = all(matches(served.get(alias), v) for alias, v in wanted.items())
        if features_through is not None:
            loaded = served.get("features_through")
            fresh = (
                fresh
                and loaded is not None
                and (datetime.fromisoformat(loaded).astimezone(UTC) >= features_through)
            )
        in_a_row = in_a_row + 1 if fresh else 0
        return served

    def stale_too_long(state: RetryCallState) -> bool:  # a streak in progress may finish
        return in_a_row == 0 and (state.seconds_since_start or 0.0) > timeout

    def give_up(state: RetryCallState) -> None:
        served = state.outcome.result() if state.outcome else None
        want = {**wanted, "features_through": features_through}
        raise PolicyError(f"{url} still serves {served or 'nothing'}, not {want}")

    Retrying(
        retry=retry_if_result(lambda _: in_a_row < 5),
        stop=stale_too_long,
        wait=lambda _: 0.1 if in_a_row else 0.5,
        retry_error_callback=give_up,
    )(ask)
