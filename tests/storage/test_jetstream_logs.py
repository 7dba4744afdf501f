"""The JetStream logs store across nodes: two stores on one namespace are two logsieve nodes.

What one node appends the other reads at once (reads wait until their chunk index has the
stream leader's last message); retention by event time deletes a back-filled chunk from the
middle of the log, and every node's figures agree afterwards, whether it was running during
the expiry or started after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from logsieve.storage import Deleted, LogsStore
from logsieve.storage.factory import open_stores
from logsieve.storage.jetstream import JetStreamOptions
from logsieve.storage.jetstream.cluster import LocalCluster
from tests.jetstream.cluster import drop_namespace, options
from tests.waiting import wait_for

from .test_contract_event_log import DAY, group_events, put


@pytest.fixture
def shared(nats_cluster: LocalCluster) -> Iterator[JetStreamOptions]:
    settings = options(nats_cluster)
    yield settings
    drop_namespace(settings)


@pytest.fixture
def nodes(shared: JetStreamOptions, tmp_path: Path) -> Iterator[list[LogsStore]]:
    opened: list[LogsStore] = []

    def node() -> LogsStore:
        opened.append(open_stores(tmp_path, "jetstream", shared).logs())
        return opened[-1]

    yield [node(), node()]
    for store in opened:
        store.close()


def test_what_one_node_appends_the_other_reads_at_once(nodes: list[LogsStore]) -> None:
    one, two = nodes
    g = one.create_group("/g", 0, None, "STANDARD")
    s = one.create_stream(g.id, "s", 0)
    for n in range(20):  # each read on the other node right after the append
        first = put(one if n % 2 else two, g.id, s.id, [(n, f"e{n}")], 100 + n)
        reader = two if n % 2 else one
        assert reader.read_after(first - 1, 10, g.id)[0][5] == f"e{n}"
        assert reader.stream_events(s.id, None, None, None, None, -1)[0][5] == f"e{n}"
        assert reader.backlog(g.id, 0)[0] == n + 1
    assert [e[5] for e in group_events(two, g.id, None, None, None, None)] == [
        f"e{n}" for n in range(20)
    ]
    assert one.last_seq() == two.last_seq() >= first


def test_expiring_a_backfilled_chunk_keeps_every_nodes_figures_equal(
    nodes: list[LogsStore], shared: JetStreamOptions, tmp_path: Path
) -> None:
    one, two = nodes
    now = 100 * DAY
    g = one.create_group("/g", 0, None, "STANDARD")
    s = one.create_stream(g.id, "s", 0)
    put(one, g.id, s.id, [(now - DAY, "kept 1")], now)
    put(one, g.id, s.id, [(now - 30 * DAY, "old, back-filled")], now)  # between two kept ones
    put(one, g.id, s.id, [(now, "kept 2")], now)
    one.set_retention(g.id, 7)
    assert two.expire(now) == 1
    kept = ["kept 1", "kept 2"]
    size = len("kept 1kept 2")
    late = open_stores(tmp_path, "jetstream", shared).logs()  # started after the expiry
    try:
        for store in (one, two, late):
            assert [e[5] for e in group_events(store, g.id, None, None, None, None)] == kept
            assert [e[5] for e in store.read_after(0, 10)] == kept
            wait_for(lambda st=store: st.group("/g").stored_bytes == size, what="stored bytes")
            assert store.stream(g.id, "s").stored_bytes == size
        assert two.expire(now) == 0  # nothing left to expire, nothing counted twice
    finally:
        late.close()


def _refused(write) -> bool:
    try:
        write()
    except Deleted:
        return True
    return False


def test_a_deleted_streams_events_leave_every_node(nodes: list[LogsStore]) -> None:
    one, two = nodes
    g = one.create_group("/g", 0, None, "STANDARD")
    a, b = (one.create_stream(g.id, name, 0) for name in ("a", "b"))
    put(one, g.id, a.id, [(1, "in a")], 0)
    put(two, g.id, b.id, [(2, "in b")], 0)
    two.delete_stream(a.id)
    # the node that appended there learns of the delete from its marker
    wait_for(lambda: _refused(lambda: put(one, g.id, a.id, [(3, "late")], 0)), what="Deleted")
    for store in (one, two):
        events = group_events(store, g.id, None, None, None, None)
        assert [e[5] for e in events] == ["in b"]
        assert [e[5] for e in store.read_after(0, 10)] == ["in b"]
        wait_for(lambda st=store: st.group("/g").stored_bytes == 4, what="stored bytes")


def _subject_counts(settings: JetStreamOptions, subjects: str) -> dict[str, int]:
    """Messages per subject of the namespace's events stream (``subjects`` a filter)."""
    import asyncio

    import nats

    async def count() -> dict[str, int]:
        nc = await nats.connect(list(settings.urls))
        try:
            info = await nc.jetstream().stream_info(
                f"{settings.namespace}_logs", subjects_filter=f"{settings.namespace}.{subjects}"
            )
            return dict(info.state.subjects or {})
        finally:
            await nc.close()

    return asyncio.run(count())


def test_the_log_keeps_only_the_newest_positions_and_markers(
    nodes: list[LogsStore], shared: JetStreamOptions
) -> None:
    """Positions are rewritten whole, markers matter until every node applied them: neither
    piles up in the stream (every node replays the stream when it starts)."""
    from logsieve.storage import Chunk

    one, _ = nodes
    positions = open_stores(Path("unused"), "jetstream", shared).source_positions(one)
    g = one.create_group("/g", 0, None, "STANDARD")
    s = one.create_stream(g.id, "s", 0)
    for n in range(5):
        positions.append_at("src", [Chunk(g.id, s.id, [n], ["x"], 1)], {"k": str(n)}, 0)
    assert list(_subject_counts(shared, "logs.pos.*").values()) == [1]
    assert positions.positions("src") == {"k": "4"}
    one.set_retention(g.id, 1)
    for day in range(2, 6):  # one expiring chunk, then one expiry pass, per day
        put(one, g.id, s.id, [(day * DAY, "x")], 0)
        assert one.expire((day + 2) * DAY) >= 1
    marks = sum(_subject_counts(shared, "logs.mark").values())
    assert 1 <= marks <= 2  # this pass's and the previous pass's


def test_a_node_reads_when_the_streams_last_message_was_deleted(
    nodes: list[LogsStore], shared: JetStreamOptions, tmp_path: Path
) -> None:
    """A chunk racing its group's delete can be purged as the stream's last message: a node
    started afterwards never receives it, and must not wait for it forever."""
    import asyncio
    import time

    import nats

    one, _ = nodes
    g = one.create_group("/g", 0, None, "STANDARD")
    s = one.create_stream(g.id, "s", 0)
    put(one, g.id, s.id, [(1, "kept")], 0)
    last = put(one, g.id, s.id, [(2, "purged behind the store's back")], 0) >> 14

    async def delete_last() -> None:
        nc = await nats.connect(list(shared.urls))
        try:
            await nc.jetstream().delete_msg(f"{shared.namespace}_logs", last)
        finally:
            await nc.close()

    asyncio.run(delete_last())
    late = open_stores(tmp_path, "jetstream", shared).logs()
    try:
        began = time.monotonic()
        assert [e[5] for e in late.read_after(0, 10)] == ["kept"]
        assert time.monotonic() - began < 4
    finally:
        late.close()


def test_reads_over_many_overlapping_chunks_match_sqlite(
    nodes: list[LogsStore], tmp_path: Path
) -> None:
    """The same appends on both engines (more chunks than a read fetches at once, three
    streams, back-filled batches): every read returns the same events in the same order."""
    import random

    rng = random.Random(7)
    sqlite = open_stores(tmp_path / "sqlite", "sqlite").logs()
    stores, streams = [sqlite, nodes[0]], []
    try:
        for store in stores:
            g = store.create_group("/g", 0, None, "STANDARD")
            streams.append((g.id, [store.create_stream(g.id, n, 0).id for n in "abc"]))
        for n in range(200):
            which = rng.randrange(3)
            start = rng.randrange(0, 100_000)
            stamps = sorted(rng.randrange(start, start + 5_000) for _ in range(rng.randint(1, 30)))
            events = [(ts, f"{n}-{i}") for i, ts in enumerate(stamps)]
            for store, (g, ids) in zip(stores, streams, strict=True):
                put(store, g, ids[which], events, n)

        def seen(store: LogsStore, g: int, ids: list[int]) -> dict[str, list]:
            def plain(events) -> list:
                return [(e[0], e[5], ids.index(e[3]), e[4]) for e in events]

            every = group_events(store, g, None, None, None, None)
            middle = every[len(every) // 3][:2]
            return {
                "all": plain(every),
                "newest": plain(group_events(store, g, None, None, None, None, newest_first=True)),
                "bounded": plain(group_events(store, g, [ids[0], ids[2]], 20_000, 60_000, None)),
                "after": plain(group_events(store, g, None, None, None, middle)),
                "before": plain(group_events(store, g, None, None, None, middle, True)),
                "stream": plain(store.stream_events(ids[1], 10_000, 90_000, None, None, 500)),
                "tail": plain(store.stream_events(ids[1], None, None, None, None, -70)),
                "read_after": plain(store.read_after(every[10][1], 1_000, g)),
            }

        on_sqlite, on_jetstream = (
            seen(s, *found) for s, found in zip(stores, streams, strict=True)
        )
        assert len(on_sqlite["all"]) > 2_000
        for read, expected in on_sqlite.items():
            assert on_jetstream[read] == expected, read
    finally:
        sqlite.close()


def test_two_nodes_creating_streams_at_once_each_name_once(nodes: list[LogsStore]) -> None:
    """Every stream write rewrites its group's record conditionally (the existence check):
    racing writers of one group retry, and a name taken twice at once is created once."""
    import threading

    one, two = nodes
    g = one.create_group("/g", 0, None, "STANDARD")
    start = threading.Barrier(2)
    created: list[tuple[str, str]] = []

    def create(store: LogsStore, node: str) -> None:
        start.wait()
        for name in (f"{node}-1", "same", f"{node}-2", f"{node}-3"):
            if store.create_stream(g.id, name, 0) is not None:
                created.append((node, name))

    threads = [threading.Thread(target=create, args=pair) for pair in ((one, "x"), (two, "y"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    names = sorted(name for _, name in created)
    assert names == ["same", "x-1", "x-2", "x-3", "y-1", "y-2", "y-3"]
    listed = [s.name for s in two.streams(g.id, None, False, False, None, 50)]
    assert listed == names
    assert len({s.id for s in one.streams(g.id, None, False, False, None, 50)}) == 7


def test_a_direct_get_no_replica_answers_falls_back_to_the_leader(
    nats_cluster: LocalCluster, tmp_path: Path
) -> None:
    """Chunk payloads come by batched direct gets, which any replica answers, and a replica
    catching up does not answer at all. Here the stream's own direct gets are off and a
    client that never answers stands for such a replica: the read gets the payloads from the
    stream's leader once the direct get times out, instead of failing."""
    import asyncio
    import threading

    import nats

    settings = options(nats_cluster, timeout_seconds=1.0)
    store = open_stores(tmp_path, "jetstream", settings).logs()
    stream = f"{settings.namespace}_logs"
    ready, done = threading.Event(), threading.Event()

    async def silent_replica() -> None:
        nc = await nats.connect(list(settings.urls))
        try:
            js = nc.jetstream()
            info = await js.stream_info(stream)
            await js.update_stream(info.config.evolve(allow_direct=False))
            await nc.subscribe(f"$JS.API.DIRECT.GET.{stream}")  # receives, never answers
            await nc.flush()
            ready.set()
            while not done.is_set():
                await asyncio.sleep(0.05)
        finally:
            await nc.close()

    replica = threading.Thread(target=asyncio.run, args=(silent_replica(),))
    try:
        g = store.create_group("/g", 0, None, "STANDARD")
        s = store.create_stream(g.id, "s", 0)
        for n in range(5):
            put(store, g.id, s.id, [(n, f"e{n}")], n)
        replica.start()
        assert ready.wait(10)
        expected = [f"e{n}" for n in range(5)]
        assert [e[5] for e in group_events(store, g.id, None, None, None, None)] == expected
        assert [e[5] for e in store.stream_events(s.id, None, None, None, None, 10)] == expected
    finally:
        done.set()
        replica.join(10)
        store.close()
        drop_namespace(settings)
