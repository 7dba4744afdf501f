"""The blocking facade over nats-py: clear errors naming the cluster, retries through a
leader election, and reconnecting to another node when one dies."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from logsieve.storage import DeadLetter
from logsieve.storage.factory import open_stores
from logsieve.storage.jetstream import ClusterUnavailable, JetStreamOptions, NotOnJetStream
from logsieve.storage.jetstream.cluster import LocalCluster
from logsieve.storage.jetstream.connection import Connection
from tests.jetstream.cluster import drop_namespace, options


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_cluster_is_one_error_naming_its_urls() -> None:
    url = f"nats://127.0.0.1:{_closed_port()}"
    started = time.monotonic()
    with pytest.raises(ClusterUnavailable) as failure:
        Connection(JetStreamOptions(urls=(url,), timeout_seconds=1))
    assert time.monotonic() - started < 5
    message = str(failure.value)
    assert url in message and "logsieve cluster up" in message
    assert "refused" in message.lower()


def test_a_store_not_on_jetstream_yet_says_so() -> None:
    from logsieve.storage.jetstream.stores import open_store

    with pytest.raises(NotOnJetStream, match="the console store is not yet on JetStream; use"):
        open_store("console", JetStreamOptions())


@pytest.fixture
def cluster_options(nats_cluster: LocalCluster) -> Iterator[JetStreamOptions]:
    settings = options(nats_cluster)
    yield settings
    drop_namespace(settings)


def test_ids_come_from_a_cluster_wide_counter(cluster_options: JetStreamOptions) -> None:
    first, second = Connection(cluster_options), Connection(cluster_options)
    try:
        first.run(first.ensure_counters())
        ids = [conn.run(conn.next_id("x")) for conn in (first, second, first, second)]
        assert ids == [1, 2, 3, 4]
        assert first.run(first.next_id("y")) == 1  # one sequence per counter
    finally:
        first.close()
        second.close()


def letter() -> DeadLetter:
    return DeadLetter(
        id=0, created=1, group_name="/g", filter_name="f", destination_arn="arn:x",
        log_stream="s", event_count=1, first_timestamp=1, last_timestamp=1, attempts=1,
        error="e", data=b"x", redriven=None,
    )  # fmt: skip


def test_a_store_keeps_working_when_its_buckets_leader_dies(
    nats_cluster: LocalCluster, cluster_options: JetStreamOptions
) -> None:
    """SIGKILL of the node leading the store's bucket: the next write waits out the election
    (retrying the 503s), nothing acknowledged is lost, and the node rejoins afterwards."""
    store = open_stores(nats_cluster.root, "jetstream", cluster_options).dead_letters()
    probe = Connection(cluster_options)
    try:
        before = store.add(letter())
        bucket = f"KV_{probe.name('dead_letters')}"
        leader_name = probe.run(probe.js.stream_info(bucket)).cluster.leader
        leader = next(node for node in nats_cluster.nodes if node.name == leader_name)
        nats_cluster.stop_node(leader, sig=9)
        after = store.add(letter())
        assert after > before
        assert [item.id for item in store.list()] == [before, after]
    finally:
        probe.close()
        store.close()
        for node in nats_cluster.nodes:
            if node.process is None:
                nats_cluster.start_node(node)
        nats_cluster.wait_ready()


def test_user_and_password_reach_a_server_that_requires_them(tmp_path) -> None:
    node = LocalCluster(
        tmp_path, nodes=1, extra='authorization { user: "ls", password: "s3cret" }'
    ).start()
    try:
        urls = tuple(node.urls)
        good = Connection(JetStreamOptions(urls=urls, user="ls", password="s3cret", replicas=1))
        good.run(good.ensure_counters())
        assert good.run(good.next_id("x")) == 1
        good.close()
        with pytest.raises(ClusterUnavailable) as failure:
            Connection(JetStreamOptions(urls=urls, user="ls", password="wrong", timeout_seconds=1))
        assert "authorization" in str(failure.value).lower()
        assert "wrong" not in str(failure.value)  # never echoes a password
    finally:
        node.stop()


def test_an_authorization_failure_stays_the_reason_after_the_server_drops_the_connection() -> None:
    """nats-server answers a wrong password with -ERR and then closes the socket: the reset
    that follows (and the retries' resets) must not hide why the cluster refused us."""
    from nats.errors import AuthorizationError

    from logsieve.storage.jetstream.connection import ConnectErrors

    errors = ConnectErrors()
    errors.record(AuthorizationError())
    errors.record(ConnectionResetError(104, "Connection reset by peer"))
    assert errors.reason is not None and "authorization" in errors.reason.lower()
    later = ConnectErrors()
    later.record(ConnectionResetError(104, "Connection reset by peer"))
    assert later.reason == "ConnectionResetError: [Errno 104] Connection reset by peer"


def test_an_authorization_violation_reported_as_a_plain_error_is_the_reason_too() -> None:
    """When the -ERR arrives in nats-py's read loop (not as the CONNECT reply), it is reported
    as ``nats.errors.Error("nats: 'Authorization Violation'")``, not AuthorizationError."""
    from nats.errors import Error

    from logsieve.storage.jetstream.connection import ConnectErrors

    errors = ConnectErrors()
    errors.record(Error("nats: 'Authorization Violation'"))
    errors.record(ConnectionResetError(104, "Connection reset by peer"))
    assert errors.reason is not None and "authorization" in errors.reason.lower()


def test_placement_without_enough_peers_yet_is_retried() -> None:
    """A stream created while a server is still joining fails with err_code 10005 ("no
    suitable peers for placement"); creation is retried instead of failing the start."""
    import asyncio

    from nats.js.errors import BadRequestError

    from logsieve.storage.jetstream.connection import Connection

    calls = []

    async def create() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise BadRequestError(code=400, err_code=10005, description="no suitable peers")
        return "created"

    conn = Connection.__new__(Connection)
    conn.options = JetStreamOptions(urls=("nats://127.0.0.1:1",), timeout_seconds=1)
    assert asyncio.run(conn.retrying(create)) == "created" and len(calls) == 2


def test_a_stream_not_found_just_after_its_creation_is_retried() -> None:
    """Right after an R3 stream is created (by this node or another), a server may still
    answer its requests with err_code 10059 "stream not found"; every stream a store calls
    through ``retrying`` was ensured when the store opened, so the call is tried again (three
    nodes started at once on a new cluster failed with this, and a Kinesis signing key read
    through such an answer "vanished")."""
    import asyncio

    from nats.js.errors import NotFoundError

    from logsieve.storage.jetstream.connection import Connection

    calls = []

    async def info() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise NotFoundError(code=404, err_code=10059, description="stream not found")
        return "found"

    async def no_message() -> str:
        raise NotFoundError(code=404, err_code=10037, description="no message found")

    conn = Connection.__new__(Connection)
    conn.options = JetStreamOptions(urls=("nats://127.0.0.1:1",), timeout_seconds=1)
    assert asyncio.run(conn.retrying(info)) == "found" and len(calls) == 2
    with pytest.raises(NotFoundError):  # a missing message is an answer, not a hiccup
        asyncio.run(conn.retrying(no_message))


def test_setting_a_namespace_up_may_take_longer_than_one_call() -> None:
    """Opening a store on a new cluster is several retried requests in a row (counters, a
    bucket, its stream's options) while the servers elect leaders; three nodes started at
    once gave up with "no answer within 20 s" though the cluster was fine. A call still has
    its budget; setting up gets a longer one."""
    import asyncio
    import threading

    from logsieve.storage.jetstream.connection import ConnectErrors

    conn = Connection.__new__(Connection)
    conn.options = JetStreamOptions(urls=("nats://127.0.0.1:1",), timeout_seconds=0.1)
    conn._errors, conn._closed = ConnectErrors(), False
    conn._track_calls()
    conn._loop = asyncio.new_event_loop()
    threading.Thread(target=conn._loop.run_forever, daemon=True).start()
    try:
        slow = 0.6  # longer than a call's budget (0.4 s here), shorter than setting up's
        assert conn.call_budget() < slow < conn.setup_budget()
        with pytest.raises(ClusterUnavailable):
            conn.run(asyncio.sleep(slow))
        assert conn.setup(asyncio.sleep(slow, "ready")) == "ready"
    finally:
        conn._loop.call_soon_threadsafe(conn._loop.stop)


def test_a_stopping_node_cuts_its_calls_short(cluster_options: JetStreamOptions) -> None:
    """A call waiting on the cluster when the node stops gives up at once, and later calls try
    once instead of waiting out the failover budget (a stopping node whose cluster is gone
    stopped only after 20 s per call in flight)."""
    import asyncio
    import threading

    conn = Connection(replace(cluster_options, timeout_seconds=1))
    failures: list[BaseException] = []

    def waiting() -> None:
        try:
            conn.run(asyncio.sleep(60))  # a call nobody answers
        except BaseException as exc:
            failures.append(exc)

    try:
        caller = threading.Thread(target=waiting)
        caller.start()
        time.sleep(0.2)
        started = time.monotonic()
        conn.cut_short()
        caller.join(timeout=2)
        assert not caller.is_alive(), "the call was not cut short"
        assert time.monotonic() - started < 1
        assert len(failures) == 1 and isinstance(failures[0], ClusterUnavailable)
        assert "stopping" in str(failures[0])
        started = time.monotonic()
        with pytest.raises(ClusterUnavailable, match="no answer within 1 s"):
            conn.run(asyncio.sleep(60))  # budget: 4 timeouts; stopping: one
        assert time.monotonic() - started < 2
        conn.run(conn.nc.flush())  # a call the server answers still works
    finally:
        conn.close()
