"""The suite's one polling helper: returns what the condition gave, fails naming what it waited for."""

import pytest

from tests.support.waiting import wait_for


def test_when_the_condition_holds_then_its_value_is_returned():
    answers = iter([None, 0, [], "ready"])
    assert wait_for(lambda: next(answers), timeout=10, interval=0) == "ready"


def test_when_the_condition_never_holds_then_the_failure_names_what_was_awaited():
    with pytest.raises(AssertionError, match="not within 0 s: the worker is ready"):
        wait_for(lambda: False, timeout=0, what="the worker is ready")


def test_when_the_condition_itself_fails_then_the_wait_ends_at_once():
    def worker_alive():
        raise AssertionError("the worker stopped")
    with pytest.raises(AssertionError, match="the worker stopped"):
        wait_for(worker_alive, timeout=3600)
