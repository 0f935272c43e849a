"""Waiting in tests for something to happen, on a machine of any speed.

A test that needs VPP (or a thread, a server) to have done something waits
for that condition, not for a fixed time: :func:`wait_for` polls until it
holds and fails the test, saying what was awaited and what was last seen,
only after a deadline generous enough for a loaded CI machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

#: seconds a test waits for a condition before it fails: far above what any
#: awaited step takes on an idle machine, for CI machines shared with builds
DEADLINE = 60.0


def wait_for(
    observe: Callable[[], T],
    done: Callable[[T], bool],
    what: str,
    timeout: float = DEADLINE,
    interval: float = 0.1,
) -> T:
    """Call ``observe()`` every ``interval`` s until ``done(value)`` holds and
    return that value; after ``timeout`` s fail (AssertionError) with
    ``what`` (the condition awaited, in words) and the last value seen.
    The last ``observe()`` is made after the deadline has passed."""
    deadline = time.monotonic() + timeout
    while True:
        value = observe()
        if done(value):
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"waited {timeout:g} s for {what}; last seen: {value!r}")
        time.sleep(interval)
