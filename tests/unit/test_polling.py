"""engageflow.polling: the tenacity wait every "until ready" loop shares."""

from __future__ import annotations

import itertools

import pytest

from engageflow.polling import poll


def test_returns_the_first_answer_that_is_done() -> None:
    answers = iter([None, [], ["run-1"]])
    assert poll(lambda: next(answers), timeout=5, every=0.01) == ["run-1"]


def test_after_the_timeout_raises_what_on_timeout_makes_of_the_last_answer() -> None:
    count = itertools.count()
    with pytest.raises(LookupError, match="still 'running'"):
        poll(
            lambda: (next(count), "running")[1],
            until=lambda state: state == "success",
            timeout=0.05,
            every=0.01,
            on_timeout=lambda state: LookupError(f"still {state!r}"),
        )
    assert next(count) > 1  # it asked more than once


def test_transient_errors_are_retried_and_the_last_one_raised_at_the_end() -> None:
    answers = iter([KeyError("404"), KeyError("404"), "parsed"])

    def probe() -> str:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert poll(probe, timeout=5, every=0.01, transient=(KeyError,)) == "parsed"
    with pytest.raises(KeyError, match="never"):
        poll(lambda: {}["never"], timeout=0.03, every=0.01, transient=(KeyError,))


def test_other_errors_end_the_wait_at_once() -> None:
    calls = itertools.count()

    def probe() -> None:
        next(calls)
        raise RuntimeError("the service exited early")

    with pytest.raises(RuntimeError, match="exited early"):
        poll(probe, timeout=5, every=0.01, transient=(KeyError,))
    assert next(calls) == 1


def test_a_zero_timeout_asks_once() -> None:
    with pytest.raises(TimeoutError):
        poll(lambda: False, timeout=0, every=0.01)
