"""Wait until something is true, on tenacity: the one shape every "poll until ready" shares.

poll(lambda: client.run(dag, run)["state"], until=lambda s: s in FINISHED, timeout=600,
     every=2, on_timeout=lambda s: TimeoutError(f"still {s}"))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    retry_if_result,
    stop_after_delay,
    wait_fixed,
)

T = TypeVar("T")


def poll(
    probe: Callable[[], T],
    *,
    until: Callable[[T], bool] = bool,
    timeout: float,
    every: float = 1.0,
    transient: tuple[type[BaseException], ...] = (),
    on_timeout: Callable[[T | None], BaseException] | None = None,
) -> T:
    """Call `probe` every `every` seconds until `until(result)`; returns that result.

    An exception in `transient` counts as "not yet"; any other ends the wait at once. After
    `timeout` seconds (at least one call) raises `on_timeout(last result, None if the last call
    raised)`, chained to the last transient error; without `on_timeout` that error itself (or a
    TimeoutError)."""

    def give_up(state: RetryCallState) -> T:
        outcome = state.outcome
        error = outcome.exception() if outcome is not None else None
        if on_timeout is None:
            raise error or TimeoutError(f"not done after {timeout:.0f} s")
        last = None if error is not None or outcome is None else outcome.result()
        raise on_timeout(last) from error

    retrying = Retrying(
        stop=stop_after_delay(max(timeout, 0.0)),
        wait=wait_fixed(every),
        retry=retry_if_result(lambda result: not until(result))
        | retry_if_exception_type(transient),
        retry_error_callback=give_up,
    )
    return retrying(probe)
