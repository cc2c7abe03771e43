"""The ranker's API key: with `serving.api_key` (or `api_key_file`) set, every request outside the
open paths (health, readiness, metrics, the OpenAPI document and its UI) must carry
`Authorization: Bearer <key>`; anything else gets a 401 with a JSON message.

An ASGI middleware registered with BentoML's `add_asgi_middleware`, so it guards the service's
APIs and the mounted /models alike. The key is compared in constant time and never logged.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from engageflow.settings import ServingConfig

OPEN_PATHS = frozenset(
    {"/", "/livez", "/healthz", "/readyz", "/metrics", "/docs.json", "/schema.json"}
)
OPEN_PREFIXES = ("/static_content/", "/assets/")
HEADER = "Authorization"

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable, Callable], Awaitable[None]]


class ApiKeyError(ValueError):
    """The configured key cannot be used; the message says which setting and what to do."""


log = logging.getLogger(__name__)


def api_key(config: ServingConfig) -> str | None:
    """The key the service requires: `api_key`, the stripped content of `api_key_file`, or None."""
    if config.api_key is not None:
        key, where = config.api_key.get_secret_value().strip(), "serving.api_key"
    elif config.api_key_file is not None:
        path = config.api_key_file.expanduser()
        where = f"serving.api_key_file ({path})"
        try:
            key = path.read_text().strip()
        except OSError as err:
            raise ApiKeyError(
                f"{where}: cannot read it ({err.strerror}); point it at a file holding the key"
            ) from None
    else:
        return None
    if not key:
        raise ApiKeyError(f"{where} is empty; set a key or unset the setting to serve without one")
    return key


def bearer_header(key: str | None) -> dict[str, str]:
    """The request header a client sends for `key` (none without a key)."""
    return {HEADER: f"Bearer {key}"} if key else {}


def is_authorized(header: bytes | None, key: bytes) -> bool:
    """`Bearer <key>` in constant time (the length of the presented token may leak, not the key)."""
    scheme, _, token = (header or b"").partition(b" ")
    return scheme.lower() == b"bearer" and hmac.compare_digest(token.strip(), key)


def is_open(path: str) -> bool:
    return path in OPEN_PATHS or path.startswith(OPEN_PREFIXES)


class ApiKeyMiddleware:
    """Refuses requests without the right bearer token; does nothing when no key is set."""

    def __init__(self, app: ASGIApp, key: str | None = None) -> None:
        from engageflow.settings import get_settings

        self.app = app
        # Read when BentoML builds the app in a worker, never at import; a bad key file fails
        # the start-up with ApiKeyError's message.
        found = key if key is not None else api_key(get_settings().serving)
        self._key = found.encode() if found else None

    async def __call__(self, scope: Scope, receive: Callable, send: Callable) -> None:
        if self._key is None or scope["type"] != "http" or is_open(scope["path"]):
            await self.app(scope, receive, send)
            return
        header = dict(scope["headers"]).get(b"authorization")
        if is_authorized(header, self._key):
            await self.app(scope, receive, send)
            return
        why = "missing" if header is None else "wrong"
        # Logged here, not only by BentoML's access log (off by default): a refusal is rare and
        # worth a line; the line names the client and path, never the header.
        client = (scope.get("client") or ("?",))[0]
        log.warning("401 %s %s from %s: %s API key", scope["method"], scope["path"], client, why)
        await _refuse(send, f"{why} API key: send the header 'Authorization: Bearer <key>'")


async def _refuse(send: Callable, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"www-authenticate", b'Bearer realm="engageflow ranker"'),
    ]
    await send({"type": "http.response.start", "status": 401, "headers": headers})
    await send({"type": "http.response.body", "body": body})
