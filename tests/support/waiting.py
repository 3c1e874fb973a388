"""Waiting for a condition instead of sleeping: the one polling helper of the test suite."""

from __future__ import annotations

import time
from typing import Callable, TypeVar

T = TypeVar("T")


def wait_for(condition: Callable[[], T], timeout: float = 10.0, interval: float = 0.05, what: str = "condition") -> T:
    """Call `condition` every `interval` seconds until it returns something truthy, and return that. After
    `timeout` seconds, AssertionError naming `what`. An AssertionError the condition raises itself (say, "the
    worker stopped") ends the wait at once."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:g} s: {what}")
        time.sleep(interval)
