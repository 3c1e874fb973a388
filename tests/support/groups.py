"""Start a consumer group at the current end of its inputs, so a test's workers read only what the test
writes: on a shared broker earlier tests' records are not this test's workload."""

from __future__ import annotations

from typing import Iterable

from kafka.errors import CoordinatorLoadInProgressError, CoordinatorNotAvailableError, NotCoordinatorError
from kafka.structs import OffsetAndMetadata

from pipeline_core.kafka_io import admin_client, end_offsets
from tests.support.waiting import wait_for


def start_group_at_the_end(settings, group: str, topics: Iterable[str], timeout: float = 60.0) -> None:
    """Commit `group`'s offsets at the end of `topics`. A fresh broker has no group coordinator for a few
    seconds (its offsets topic is being made): retried until `timeout`. A group with live members refuses."""
    topics = tuple(topics)
    errors: dict = {}
    not_yet = (CoordinatorNotAvailableError, NotCoordinatorError, CoordinatorLoadInProgressError)

    def committed() -> bool:
        ends = end_offsets(settings, topics)
        admin = admin_client(settings)
        try:
            answer = admin.alter_group_offsets(group, {tp: OffsetAndMetadata(o, "", -1) for tp, o in ends.items()})
        except not_yet:
            return False
        else:
            if any(issubclass(e, not_yet) for e in answer.values()):  # answered per partition, as often
                return False
            errors.update(answer)
            return True
        finally:
            admin.close()
    wait_for(committed, timeout, what=f"a group coordinator for {group}")
    failed = {tp: e for tp, e in errors.items() if e.__name__ != "NoError"}
    assert not failed, f"group {group} is in use (stop its workers first): {failed}"
