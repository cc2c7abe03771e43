"""An open-loop HTTP load for the service: requests leave on a fixed schedule, whatever the server
does, and each is timed from its scheduled instant (a server that falls behind shows its queue).

Shared by benchmarks/ and tests/reliability/; aiohttp comes with BentoML.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Reply:
    status: int  # 0: no HTTP answer (connection refused or reset)
    body: bytes
    due_s: float  # scheduled send time, seconds after the load started
    latency_ms: float  # from the scheduled time to the answer
    sent_at: float  # time.perf_counter() when the request actually left (a busy client lags)
    done_at: float  # time.perf_counter() when the answer was read


@dataclass
class Load:
    replies: list[Reply] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def latencies_ms(self) -> np.ndarray:
        return np.array([r.latency_ms for r in self.replies])

    @property
    def achieved(self) -> float:
        return len(self.replies) / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> int:
        return sum(r.status != 200 for r in self.replies)


async def _open_loop(url: str, bodies: list[dict], rate: float, headers: dict) -> Load:
    import aiohttp

    load = Load()
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def send(body: dict, due: float) -> None:
            sent = time.perf_counter()
            try:
                async with session.post(url, json=body) as reply:
                    status, data = reply.status, await reply.read()
            except aiohttp.ClientConnectionError as err:
                status, data = 0, str(err).encode()
            now = time.perf_counter()
            load.replies.append(Reply(status, data, due - start, (now - due) * 1e3, sent, now))

        start = time.perf_counter() + 0.05
        tasks = []
        for i, body in enumerate(bodies):
            due = start + i / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            tasks.append(asyncio.create_task(send(body, due)))
        await asyncio.gather(*tasks)
        load.seconds = time.perf_counter() - start
    load.replies.sort(key=lambda r: r.due_s)
    return load


def open_loop(url: str, bodies: list[dict], rate: float, headers: dict | None = None) -> Load:
    """POST each body to `url` at `rate` per second; every reply, in schedule order."""
    return asyncio.run(_open_loop(url, bodies, rate, headers or {}))
