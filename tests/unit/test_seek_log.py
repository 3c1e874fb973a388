"""SeekLog (streams/seek_safe_consumer.py): which partitions were sought after a batch was requested, and where to."""

from faust.types import TP

from pipeline_core.settings import Settings
from streams.app import faust_app
from streams.seek_safe_consumer import SeekLog, SeekSafeConsumer, SeekSafeTransport

ORDERS_0, ORDERS_1 = TP("raw.orders", 0), TP("raw.orders", 1)


def test_a_partition_sought_after_the_mark_is_stale_and_the_others_are_not():
    seeks = SeekLog()
    seeks.sought(ORDERS_0, 10)
    mark = seeks.mark()
    assert not seeks.since(mark, ORDERS_0) and not seeks.since(mark, ORDERS_1)
    seeks.sought(ORDERS_1, 40)
    assert seeks.since(mark, ORDERS_1) and not seeks.since(mark, ORDERS_0)


def test_a_seek_to_the_same_offset_still_counts():
    """A second seek to the committed offset (a rebalance that kept the partition) makes a batch fetched before it
    as stale as the first did."""
    seeks = SeekLog()
    seeks.sought(ORDERS_0, 10)
    mark = seeks.mark()
    seeks.sought(ORDERS_0, 10)
    assert seeks.since(mark, ORDERS_0)


def test_the_target_is_where_the_last_seek_put_the_partition():
    seeks = SeekLog()
    assert seeks.target(ORDERS_0) is None
    seeks.sought(ORDERS_0, 10)
    seeks.sought(ORDERS_0, 7)
    assert seeks.target(ORDERS_0) == 7 and seeks.count(ORDERS_0) == 2
    seeks.sought(ORDERS_0, None)  # the reset policy decides: read again from the committed offsets
    assert seeks.target(ORDERS_0) is None


def test_the_workers_consume_through_the_seek_safe_consumer(tmp_path):
    app = faust_app(Settings.from_env({"POWERSELL_DATA_DIR": str(tmp_path)}), "seek-log-test")
    assert isinstance(app.transport, SeekSafeTransport) and app.transport.Consumer is SeekSafeConsumer
