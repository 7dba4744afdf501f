"""The JetStream event log partitioned over P streams (logs_partitions.py).

Groups land in partition ``id % P`` (their own stream, their own leader); seqs carry the
partition so ids never collide, and a cursor taken from ``last_seq(group)`` follows its group.
P is fixed when the namespace is made; a source's write spanning partitions either commits
whole or, cut short by a crash, leaves nothing behind once the source resumes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from logsieve.errors import ConfigError
from logsieve.storage import Chunk, LogsStore
from logsieve.storage.factory import open_stores
from logsieve.storage.jetstream import JetStreamOptions, logs_positions
from logsieve.storage.jetstream.cluster import LocalCluster
from logsieve.storage.jetstream.logs_partitions import PART_SHIFT, PARTITIONS_KEY, join, split
from logsieve.storage.jetstream.options import DEFAULT_PARTITIONS
from logsieve.storage.records import event_id, parse_event_id
from logsieve.storage.sqlite import SEQ_BITS
from tests.jetstream.cluster import drop_namespace, options

from .test_contract_event_log import put


@pytest.fixture
def shared(nats_cluster: LocalCluster) -> Iterator[JetStreamOptions]:
    settings = options(nats_cluster, partitions=3)
    yield settings
    drop_namespace(settings)


@pytest.fixture
def opened(tmp_path: Path) -> Iterator[list[Any]]:
    stores: list[Any] = []
    yield stores
    for store in stores:
        store.close()


def _open(opened: list[Any], settings: JetStreamOptions, tmp_path: Path) -> LogsStore:
    opened.append(open_stores(tmp_path, "jetstream", settings).logs())
    return opened[-1]


def _groups(logs: LogsStore, count: int) -> list[tuple[int, int]]:
    ids = []
    for n in range(count):
        g = logs.create_group(f"/g{n}", 0, None, "STANDARD")
        s = logs.create_stream(g.id, "s", 0)
        ids.append((g.id, s.id))
    return ids


def test_seqs_carry_the_partition_and_partition_zero_keeps_the_old_layout() -> None:
    assert join(0, 5, 7) == (5 << SEQ_BITS) | 7  # unpartitioned seqs are partition 0's
    assert split(join(3, 1 << 42, 16383)) == (3, 1 << 42, 16383)
    assert join(63, (1 << 43) - 1, (1 << SEQ_BITS) - 1) < 1 << 63  # a signed 64-bit int
    seq = join(2, 9, 1)
    assert parse_event_id(event_id(1_700_000_000_000, seq)) == (1_700_000_000_000, seq)
    assert seq >> PART_SHIFT == 2


def test_groups_spread_over_partitions_each_followed_by_its_own_cursor(
    shared: JetStreamOptions, tmp_path: Path, opened: list[Any]
) -> None:
    one, two = _open(opened, shared, tmp_path), _open(opened, shared, tmp_path)
    ids = _groups(one, 3)
    assert sorted(g % 3 for g, _ in ids) == [0, 1, 2]
    cursors = {g: two.last_seq(g) for g, _ in ids}
    firsts = {}
    for round_ in range(3):
        for n, (g, s) in enumerate(ids):
            first = put(one if round_ % 2 else two, g, s, [(round_, f"g{n}r{round_}")], 10)
            firsts.setdefault(g, []).append(first)
    seqs = [seq for found in firsts.values() for seq in found]
    assert len(set(seqs)) == len(seqs)  # no two events share a seq (an event id)
    for n, (g, _) in enumerate(ids):
        assert {seq >> PART_SHIFT for seq in firsts[g]} == {g % 3}
        events = two.read_after(cursors[g], 100, g)
        assert [e[5] for e in events] == [f"g{n}r{r}" for r in range(3)]
        assert all(e[2] == g for e in events)
        assert one.backlog(g, cursors[g])[0] == 3
        assert one.backlog(g, events[0][1])[0] == 2
        assert one.read_after(two.last_seq(g), 10, g) == []
    # without a group: every event, in seq order (partition by partition)
    everything = one.read_after(0, 100)
    assert [e[1] for e in everything] == sorted(seqs)
    assert one.last_seq() >= max(seqs)


def test_deleting_and_expiring_touch_only_the_groups_partition(
    shared: JetStreamOptions, tmp_path: Path, opened: list[Any]
) -> None:
    one, two = _open(opened, shared, tmp_path), _open(opened, shared, tmp_path)
    ids = _groups(one, 3)
    for g, s in ids:
        put(one, g, s, [(1, "old")], 1)
        put(one, g, s, [(10**12, "new")], 1)
    doomed, expiring, kept = ids
    one.delete_group(doomed[0])
    one.set_retention(expiring[0], 1)
    assert two.expire(10**12 + 1) == 1
    assert [e[5] for e in one.read_after(0, 10, expiring[0])] == ["new"]
    assert [e[5] for e in two.read_after(0, 10, kept[0])] == ["old", "new"]
    assert two.read_after(0, 10, doomed[0]) == []
    assert one.stream_events(kept[1], None, None, None, None, 10)[0][5] == "old"
    assert two.stream_events(doomed[1], None, None, None, None, 10) == []


def test_a_node_configured_with_another_count_refuses_to_start(
    shared: JetStreamOptions, tmp_path: Path, opened: list[Any]
) -> None:
    _open(opened, shared, tmp_path)
    other = JetStreamOptions(**{**shared.__dict__, "partitions": 2})
    with pytest.raises(ConfigError) as refused:
        open_stores(tmp_path, "jetstream", other).logs()
    message = str(refused.value)
    assert "\n" not in message
    assert "partitions = 2" in message and "made with partitions = 3" in message


def test_a_node_without_a_count_follows_the_namespaces(
    shared: JetStreamOptions, nats_cluster: LocalCluster, tmp_path: Path, opened: list[Any]
) -> None:
    writer = _open(opened, shared, tmp_path)
    g, s = _groups(writer, 2)[1]
    put(writer, g, s, [(1, "x")], 1)
    unset = JetStreamOptions(**{**shared.__dict__, "partitions": None})
    follower = _open(opened, unset, tmp_path)
    assert len(follower._parts) == 3
    assert [e[5] for e in follower.read_after(0, 10, g)] == ["x"]
    assert follower.read_after(follower.last_seq(g), 10, g) == []
    fresh = options(nats_cluster)  # no count anywhere: the default
    try:
        assert len(_open(opened, fresh, tmp_path)._parts) == DEFAULT_PARTITIONS
    finally:
        drop_namespace(fresh)


def _forget_count(store: Any, settings: JetStreamOptions) -> None:
    bucket = f"{settings.namespace}_logs"
    store._run(
        store._conn.js.purge_stream(f"KV_{bucket}", subject=f"$KV.{bucket}.{PARTITIONS_KEY}")
    )


def test_a_namespace_written_before_partitions_counts_one(
    nats_cluster: LocalCluster, tmp_path: Path, opened: list[Any]
) -> None:
    settings = options(nats_cluster, partitions=1)
    try:
        old = _open(opened, settings, tmp_path)
        g, s = _groups(old, 1)[0]
        put(old, g, s, [(1, "kept")], 1)
        _forget_count(old, settings)  # as a namespace made before the count was stored
        three = JetStreamOptions(**{**settings.__dict__, "partitions": 3})
        with pytest.raises(ConfigError, match="made with partitions = 1"):
            open_stores(tmp_path, "jetstream", three).logs()
        again = _open(opened, settings, tmp_path)
        assert [e[5] for e in again.read_after(0, 10, g)] == ["kept"]
    finally:
        drop_namespace(settings)


class _Crash(Exception):
    """The process dying between a source's early partitions and its positions."""


def test_a_source_write_over_partitions_commits_whole(
    shared: JetStreamOptions, tmp_path: Path, opened: list[Any]
) -> None:
    logs = _open(opened, shared, tmp_path)
    positions = open_stores(tmp_path, "jetstream", shared).source_positions(logs)
    ids = _groups(logs, 3)
    chunks = [Chunk(g, s, [1, 2], [f"{g}a", f"{g}b"], 4) for g, s in ids]
    seqs = positions.append_at("src", chunks, {"shard": "1"}, 5)
    assert [seq >> PART_SHIFT for seq in seqs] == [g % 3 for g, _ in ids]
    assert positions.positions("src") == {"shard": "1"}
    for (g, _), seq in zip(ids, seqs, strict=True):
        assert [e[1] for e in logs.read_after(0, 10, g)] == [seq, seq + 1]
    positions.append_at("src", [], {"shard": None, "other": "x"}, 6)
    assert positions.positions("src") == {"other": "x"}
    positions.forget("src")
    assert positions.positions("src") == {}


def test_a_crash_before_the_positions_commit_leaves_nothing_behind(
    shared: JetStreamOptions, tmp_path: Path, opened: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    logs = _open(opened, shared, tmp_path)
    positions = open_stores(tmp_path, "jetstream", shared).source_positions(logs)
    ids = _groups(logs, 3)
    positions.append_at("src", [], {"shard": "0"}, 1)
    publish = logs_positions.publish_batch
    lead = f"{shared.namespace}.logs.pos."

    async def crash_at_the_positions(conn: Any, messages: Any) -> int:
        if messages[-1][0].startswith(lead):
            raise _Crash
        return await publish(conn, messages)

    chunks = [Chunk(g, s, [1], [f"{g}once"], 5) for g, s in ids]
    monkeypatch.setattr(logs_positions, "publish_batch", crash_at_the_positions)
    with pytest.raises(_Crash):
        positions.append_at("src", chunks, {"shard": "1"}, 2)
    monkeypatch.setattr(logs_positions, "publish_batch", publish)
    written_early = [g for g, _ in ids if g % 3 and logs.read_after(0, 10, g)]
    assert written_early  # the other partitions' chunks were stored before the crash
    # the restarted source (another node) resumes at the committed positions ...
    other = _open(opened, shared, tmp_path)
    resumed = open_stores(tmp_path, "jetstream", shared).source_positions(other)
    assert resumed.positions("src") == {"shard": "0"}
    # ... and writes the same events again: each is stored once
    resumed.append_at("src", chunks, {"shard": "1"}, 3)
    assert resumed.positions("src") == {"shard": "1"}
    for g, _ in ids:
        assert [e[5] for e in logs.read_after(0, 10, g)] == [f"{g}once"]
        assert logs.backlog(g, 0)[0] == 1


def test_the_consoles_ingest_count_sees_every_partition(
    shared: JetStreamOptions, tmp_path: Path, opened: list[Any]
) -> None:
    from logsieve.console.services import events_between, log_position

    logs = _open(opened, shared, tmp_path)
    ids = _groups(logs, 3)
    position, count = log_position(logs), events_between(logs)
    before = position()
    for n, (g, s) in enumerate(ids):
        put(logs, g, s, [(t, "e") for t in range(n + 1)], 1)  # 1, 2 and 3 events
    assert count(before, position()) == 6


def test_a_new_namespace_opens_without_waiting_out_a_retry(
    nats_cluster: LocalCluster, tmp_path: Path
) -> None:
    """A new namespace has no event stream yet: the probe for events written before
    partitions existed takes "stream not found" for its answer. Retried as a stream not yet
    seen, it made every new namespace's first store wait three timeouts (15 s by default)."""
    settings = options(nats_cluster, partitions=3, timeout_seconds=10)
    started = time.monotonic()
    try:
        open_stores(tmp_path, "jetstream", settings).logs().close()
        assert time.monotonic() - started < settings.timeout_seconds
    finally:
        drop_namespace(settings)
