"""Writes racing a delete, and deletes racing each other, against the real server.

Two contracts (issue 11, item 6):

* an event acknowledged into a stream that is being deleted never shows up anywhere else: ids
  of deleted groups and streams are never handed out again, and an append checks, inside its
  own transaction, that the stream still exists (ResourceNotFoundException if not);
* DeleteLogGroup and DeleteLogStream happen once: of concurrent deletes of one resource,
  exactly one succeeds and the others get ResourceNotFoundException with AWS's message.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from logsieve.logs.context import GROUP_NOT_FOUND, STREAM_NOT_FOUND
from tests.server import Server, client
from tests.storage.races import concurrently

WRITERS = 6
ROUNDS = 8


@pytest.fixture(scope="module")
def racing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of its own: id reuse shows when the newest group or stream is deleted."""
    running = Server(tmp_path_factory.mktemp("races")).start()
    yield running
    running.stop()


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def code(error: ClientError) -> str:
    return error.response["Error"]["Code"]


def all_messages(logs: Any, group: str, stream: str | None = None) -> list[str]:
    """Every message of a stream (GetLogEvents) or of a group (FilterLogEvents)."""
    found: list[str] = []
    if stream is not None:
        token = None
        while True:
            args = {"nextToken": token} if token else {"startFromHead": True}
            page = logs.get_log_events(logGroupName=group, logStreamName=stream, **args)
            found += [e["message"] for e in page["events"]]
            if page["nextForwardToken"] == token:
                return found
            token = page["nextForwardToken"]
    args = {}
    while True:
        page = logs.filter_log_events(logGroupName=group, **args)
        found += [e["message"] for e in page["events"]]
        if "nextToken" not in page:
            return found
        args = {"nextToken": page["nextToken"]}


def hammer(logs_for: Callable[[], Any], group: str, stream: str, acked: list[str]) -> None:
    """Put small batches until the stream is gone (its group too, or just the stream); record
    what was acknowledged."""
    logs = logs_for()
    i = 0
    while True:
        message = f"{group}/{stream} {threading.get_ident()} {i}"
        try:
            logs.put_log_events(
                logGroupName=group,
                logStreamName=stream,
                logEvents=[{"timestamp": now_ms(), "message": message}],
            )
        except ClientError as error:
            assert code(error) == "ResourceNotFoundException", error
            assert error.response["Error"]["Message"] in (GROUP_NOT_FOUND, STREAM_NOT_FOUND)
            return
        acked.append(message)
        i += 1


@pytest.mark.parametrize("delete", ["group", "stream"])
def test_events_put_during_a_delete_never_reappear_elsewhere(racing: Server, delete: str) -> None:
    """Writers hammer one stream while it (or its group) is deleted; then new groups and
    streams are created, which reuse ids on a store that hands them out again. No new group
    or stream may show an event that was not put into it."""
    logs = client(racing)
    for round_ in range(ROUNDS):
        tag = f"{delete}-{round_}-{uuid.uuid4().hex[:6]}"
        old_group, old_stream = f"/race/old-{tag}", "victim"
        logs.create_log_group(logGroupName=old_group)
        logs.create_log_stream(logGroupName=old_group, logStreamName=old_stream)
        acked: list[str] = []
        writers = [
            threading.Thread(
                target=hammer, args=(lambda: client(racing), old_group, old_stream, acked)
            )
            for _ in range(WRITERS)
        ]
        for writer in writers:
            writer.start()
        deadline = time.monotonic() + 10
        while len(acked) < 3 * WRITERS and time.monotonic() < deadline:
            time.sleep(0.005)  # polling the writers' progress, not synchronising on time
        if delete == "group":
            logs.delete_log_group(logGroupName=old_group)
        else:
            logs.delete_log_stream(logGroupName=old_group, logStreamName=old_stream)
        for writer in writers:
            writer.join(30)
        assert acked, "no write was acknowledged before the delete"

        # New resources: on a store that reuses ids they take the deleted ones.
        new_group = f"/race/new-{tag}"
        logs.create_log_group(logGroupName=new_group)
        fresh = [(new_group, "fresh")]
        if delete == "stream":
            fresh.append((old_group, "second"))  # a new stream in the surviving group
        for group, stream in fresh:
            logs.create_log_stream(logGroupName=group, logStreamName=stream)
            logs.put_log_events(
                logGroupName=group,
                logStreamName=stream,
                logEvents=[{"timestamp": now_ms(), "message": f"{group}/{stream} own"}],
            )
        for group, stream in fresh:
            got = all_messages(logs, group, stream)
            assert got == [f"{group}/{stream} own"], f"round {round_}: {group}/{stream} got {got}"
        got = all_messages(logs, new_group)
        assert got == [f"{new_group}/fresh own"], f"round {round_}: {new_group} got {got}"
        if delete == "stream":
            got = all_messages(logs, old_group)
            assert got == [f"{old_group}/second own"], f"round {round_}: {old_group} got {got}"


def assert_one_success(results: list[ClientError | None], message: str, round_: int) -> None:
    successes = sum(r is None for r in results)
    assert successes == 1, f"round {round_}: {successes} of {len(results)} deletes succeeded"
    for error in results:
        if error is not None:
            assert code(error) == "ResourceNotFoundException", error
            assert error.response["Error"]["Message"] == message


@pytest.mark.parametrize("delete", ["group", "stream"])
def test_concurrent_deletes_succeed_once(racing: Server, delete: str) -> None:
    """Eight clients delete the same group (or stream) at once: one success, seven
    ResourceNotFoundException, in every round."""
    clients = [client(racing) for _ in range(8)]
    for round_ in range(10):
        group = f"/race/delete-{delete}-{round_}-{uuid.uuid4().hex[:6]}"
        clients[0].create_log_group(logGroupName=group)
        clients[0].create_log_stream(logGroupName=group, logStreamName="s")
        if delete == "group":
            results = concurrently(
                8, lambda i, g=group: clients[i].delete_log_group(logGroupName=g)
            )
        else:
            results = concurrently(
                8,
                lambda i, g=group: clients[i].delete_log_stream(logGroupName=g, logStreamName="s"),
            )
        assert_one_success(
            results, GROUP_NOT_FOUND if delete == "group" else STREAM_NOT_FOUND, round_
        )


def test_a_new_group_and_stream_never_get_a_deleted_ones_id(tmp_path: Path) -> None:
    """The store-level rule behind the race test, without timing: delete the newest group and
    stream, create new ones, and their ids are new."""
    from logsieve.storage import Deleted, SqliteStore

    store = SqliteStore(tmp_path / "logsieve.db")
    try:
        group = store.create_group("/a", 0, None, "STANDARD")
        stream = store.create_stream(group.id, "s", 0)
        store.delete_stream(stream.id)
        again = store.create_stream(group.id, "t", 0)
        assert again.id != stream.id
        store.delete_group(group.id)
        other = store.create_group("/b", 0, None, "STANDARD")
        assert other.id != group.id
        with pytest.raises(Deleted):
            store.append(group.id, again.id, [1], ["late"], 4, 1)
        with pytest.raises(Deleted):
            store.delete_group(group.id)
        with pytest.raises(Deleted):
            store.create_stream(group.id, "u", 0)
        with pytest.raises(Deleted):
            store.set_tags(group.id, {"k": "v"})
    finally:
        store.close()
