"""Durability: acknowledged writes survive ``kill -9``, and hostile input never touches data.

Two contracts, both checked against the real server process:

* crash safety: a 200 from PutLogEvents means the batch is committed. Writers hammer the
  server while it is SIGKILLed at random moments and restarted on the same data directory;
  afterwards every acknowledged event is there exactly once and in order, and every other
  batch is either entirely there or entirely absent (one batch is one transaction);
* bad input: malformed, oversized, unsigned or otherwise hostile requests get a 4xx in AWS's
  error shape (``__type`` in a JSON body, ``X-Amzn-ErrorType`` header), never a 5xx, and the
  events already stored are unchanged afterwards.
"""

from __future__ import annotations

import base64
import itertools
import json
import math
import os
import random
import re
import socket
import sqlite3
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import botocore.auth
import httpx
import pytest
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from logsieve.storage import SqliteStore
from tests.server import ACCESS_KEY, SECRET_KEY, Server, client

TARGET = "Logs_20140328."
CONTENT_TYPE = "application/x-amz-json-1.1"
MAX_BODY = 8 * 1024 * 1024


def now_ms() -> int:
    return time.time_ns() // 1_000_000


# --- reading everything back -------------------------------------------------------------------


def read_stream(logs, group: str, stream: str, limit: int | None = None) -> list[dict[str, Any]]:
    """Every event of a stream, oldest first, via GetLogEvents until the token repeats."""
    events: list[dict[str, Any]] = []
    token = None
    for _ in range(100_000):
        kwargs: dict[str, Any] = {"logGroupName": group, "logStreamName": stream}
        if token is not None:
            kwargs["nextToken"] = token
        if limit is not None:
            kwargs["limit"] = limit
        page = logs.get_log_events(startFromHead=True, **kwargs)
        events += page["events"]
        if page["nextForwardToken"] == token:
            return events
        token = page["nextForwardToken"]
    raise AssertionError("GetLogEvents never returned the token it was given")


def read_stream_backward(logs, group: str, stream: str, limit: int) -> list[dict[str, Any]]:
    """Every event of a stream, newest page first, following ``nextBackwardToken``."""
    pages: list[list[dict[str, Any]]] = []
    kwargs: dict[str, Any] = {"logGroupName": group, "logStreamName": stream, "limit": limit}
    for _ in range(100_000):
        page = logs.get_log_events(**kwargs)
        pages.append(page["events"])
        if page["nextBackwardToken"] == kwargs.get("nextToken"):
            return [e for events in reversed(pages) for e in events]
        kwargs["nextToken"] = page["nextBackwardToken"]
    raise AssertionError("GetLogEvents never returned the token it was given")


def filter_group(logs, group: str, limit: int | None = None) -> list[dict[str, Any]]:
    """Every event of a group via FilterLogEvents until ``nextToken`` is absent."""
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"logGroupName": group}
    if limit is not None:
        kwargs["limit"] = limit
    for _ in range(100_000):
        page = logs.filter_log_events(**kwargs)
        events += page["events"]
        if "nextToken" not in page:
            return events
        kwargs["nextToken"] = page["nextToken"]
    raise AssertionError("FilterLogEvents never stopped handing out tokens")


# --- 1. crash safety ---------------------------------------------------------------------------

CRASH_SEED = int(os.environ.get("LOGSIEVE_CRASH_SEED", "20261122"))
KILLS = 5
MESSAGE = re.compile(r"(w\d+) batch (\d+) event (\d+) [0-9a-f]{12} \S+\Z")


@dataclass
class Writer:
    """One client thread sending PutLogEvents batches back to back, keeping score."""

    name: str
    logs: Any
    group: str
    stream: str
    rng: random.Random
    attempted: dict[int, int] = field(default_factory=dict)  # batch -> number of events
    acked: set[int] = field(default_factory=set)
    partial: list[tuple[int, dict]] = field(default_factory=list)  # 200s that rejected events
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        batch = 0
        while not self.stop.is_set():
            n = self.rng.randint(50, 500)
            tag = uuid.uuid4().hex[:12]
            t = now_ms()
            events = [
                {
                    "timestamp": t + i // 40,
                    "message": f"{self.name} batch {batch} event {i} {tag} é✓",
                }
                for i in range(n)
            ]
            self.attempted[batch] = n
            try:
                result = self.logs.put_log_events(
                    logGroupName=self.group, logStreamName=self.stream, logEvents=events
                )
            except Exception:  # any error, refused connection or reset: not acknowledged
                time.sleep(0.01)
            else:
                self.acked.add(batch)
                if "rejectedLogEventsInfo" in result:
                    self.partial.append((batch, result["rejectedLogEventsInfo"]))
            batch += 1


def test_acknowledged_batches_survive_sigkill(tmp_path: Path) -> None:
    rng = random.Random(CRASH_SEED)
    server = Server(tmp_path / "data").start()  # restarted on the same port and data dir
    try:
        setup = client(server)
        group = f"/crash/{uuid.uuid4().hex[:8]}"
        setup.create_log_group(logGroupName=group)
        for stream in ("s0", "s1"):
            setup.create_log_stream(logGroupName=group, logStreamName=stream)
        # Two writers on s0 (concurrent appends to one stream), one on s1.
        writers = [
            Writer(f"w{k}", client(server), group, stream, random.Random(CRASH_SEED + k))
            for k, stream in enumerate(("s0", "s1", "s0"))
        ]
        threads = [threading.Thread(target=w.run, daemon=True) for w in writers]
        for thread in threads:
            thread.start()
        kill_log = []
        try:
            for _ in range(KILLS):
                time.sleep(rng.uniform(0.05, 0.5))
                before = sum(len(w.acked) for w in writers)
                server.kill()
                kill_log.append(before)
                server.start()
            time.sleep(0.3)  # some acknowledged writes after the last restart too
        finally:
            for w in writers:
                w.stop.set()
            for thread in threads:
                thread.join(timeout=30)
        assert not any(t.is_alive() for t in threads), "a writer thread hung"

        reader = client(server)
        stored: dict[str, list[dict[str, Any]]] = {
            s: read_stream(reader, group, s) for s in ("s0", "s1")
        }
        by_writer: dict[str, dict[int, list[int]]] = {w.name: defaultdict(list) for w in writers}
        for stream, events in stored.items():
            messages = [e["message"] for e in events]
            duplicated = [m for m, c in Counter(messages).items() if c > 1]
            assert not duplicated, f"{len(duplicated)} events stored twice, e.g. {duplicated[:3]}"
            stamps = [e["timestamp"] for e in events]
            assert stamps == sorted(stamps), f"GetLogEvents out of timestamp order in {stream}"
            for message in messages:
                m = MESSAGE.match(message)
                assert m, f"unexpected event {message!r}"
                writer = next(w for w in writers if w.name == m.group(1))
                assert writer.stream == stream, f"{message!r} stored in the wrong stream"
                by_writer[writer.name][int(m.group(2))].append(int(m.group(3)))

        acked_total = present_unacked = 0
        for w in writers:
            assert not w.partial, f"{w.name}: 200 with rejected events {w.partial[:3]}"
            got = by_writer[w.name]
            assert set(got) <= set(w.attempted), f"{w.name}: events of batches never sent"
            for batch, n in w.attempted.items():
                events = got.get(batch, [])
                if batch in w.acked:
                    acked_total += 1
                    assert events == list(range(n)), (
                        f"{w.name} batch {batch} was acknowledged ({n} events) but "
                        f"{len(events)} are stored (first missing: "
                        f"{next((i for i in range(n) if i not in set(events)), None)}), "
                        f"or out of order"
                    )
                else:
                    assert events in ([], list(range(n))), (
                        f"{w.name} batch {batch} (not acknowledged) is partially stored: "
                        f"{len(events)} of {n} events"
                    )
                    present_unacked += bool(events)
        assert acked_total >= KILLS, f"too few acknowledged batches to mean anything: {kill_log}"
        print(
            f"\ncrash seed={CRASH_SEED}: {acked_total} acknowledged batches, "
            f"{sum(len(w.attempted) for w in writers) - acked_total} not acknowledged "
            f"({present_unacked} of them stored whole), "
            f"{sum(map(len, stored.values()))} events, acks before each kill {kill_log}"
        )

        # FilterLogEvents over the group sees exactly the same events, each with a unique id.
        filtered = filter_group(reader, group)
        ids = [e["eventId"] for e in filtered]
        assert len(set(ids)) == len(ids), "FilterLogEvents returned an eventId twice"
        assert Counter((e["logStreamName"], e["message"]) for e in filtered) == Counter(
            (s, e["message"]) for s, events in stored.items() for e in events
        )

        # Pages that end in the middle of batches, walked both ways, see the same events.
        for stream, events in stored.items():
            assert read_stream(reader, group, stream, limit=997) == events
            assert read_stream_backward(reader, group, stream, limit=997) == events
        assert filter_group(reader, group, limit=1009) == filtered

        # Metadata agrees with what is stored.
        described = {
            s["logStreamName"]: s
            for s in reader.describe_log_streams(logGroupName=group)["logStreams"]
        }
        assert set(described) == {"s0", "s1"}
        for stream, events in stored.items():
            info = described[stream]
            if events:
                assert info["firstEventTimestamp"] == min(e["timestamp"] for e in events)
                assert info["lastEventTimestamp"] == max(e["timestamp"] for e in events)
                # Committed with its batch. (With two writers on a stream it may not be the
                # newest: see test_stream_metadata_under_concurrent_puts.)
                assert info["lastIngestionTime"] in {e["ingestionTime"] for e in events}
                if stream == "s1":  # a single writer
                    assert info["lastIngestionTime"] == max(e["ingestionTime"] for e in events)
            else:
                assert "lastEventTimestamp" not in info
            assert info["storedBytes"] == 0  # AWS no longer reports per-stream bytes
        total_bytes = sum(len(e["message"].encode()) for events in stored.values() for e in events)
        info = reader.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]
        assert info["storedBytes"] == total_bytes
    finally:
        server.stop()

    # With the server gone, the database itself: intact, and the per-stream byte counts (which
    # the API no longer reports) match the events read back.
    conn = sqlite3.connect(f"file:{tmp_path / 'data' / 'logsieve.db'}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        stream_bytes = dict(
            conn.execute(
                "SELECT s.name, s.stored_bytes FROM log_streams s "
                "JOIN log_groups g ON g.id = s.group_id WHERE g.name = ?",
                (group,),
            ).fetchall()
        )
    finally:
        conn.close()
    assert stream_bytes == {
        s: sum(len(e["message"].encode()) for e in events) for s, events in stored.items()
    }


def put_at_once(clients: list[Any], group: str, stream: str, batches: list[list[dict]]) -> None:
    """Each client sends its batch to the stream, all released at the same moment."""
    barrier = threading.Barrier(len(clients))
    errors: list[BaseException] = []

    def put(c, events: list[dict]) -> None:
        try:
            barrier.wait()
            c.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=put, args=pair) for pair in zip(clients, batches, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors


def test_stream_metadata_under_concurrent_puts(logs, server) -> None:
    """Concurrent PutLogEvents to one stream leave its metadata describing the newest event.

    Round after round, eight clients each send one batch to a fresh stream at the same moment;
    then lastIngestionTime must be the newest ingestionTime stored, lastEventTimestamp the
    largest timestamp and firstEventTimestamp the smallest. (A race shows up in some rounds
    only, hence the rounds; test_last_ingestion_time_when_commits_overtake forces it.)
    """
    group = f"/concurrent/{uuid.uuid4().hex[:8]}"
    logs.create_log_group(logGroupName=group)
    clients = [client(server) for _ in range(8)]
    rng = random.Random(CRASH_SEED)
    deadline = time.monotonic() + 4
    rounds = 0
    while time.monotonic() < deadline and rounds < 100:
        stream = f"r{rounds}"
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        t = now_ms()
        batches = []
        for k in range(len(clients)):
            start = t + rng.randint(-60_000, 60_000)
            batches.append([{"timestamp": start + i, "message": f"{k} {i}"} for i in range(20)])
        put_at_once(clients, group, stream, batches)
        events = read_stream(logs, group, stream)
        assert len(events) == sum(map(len, batches))
        info = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix=stream)
        described = next(s for s in info["logStreams"] if s["logStreamName"] == stream)
        expected = {
            "firstEventTimestamp": min(e["timestamp"] for e in events),
            "lastEventTimestamp": max(e["timestamp"] for e in events),
            "lastIngestionTime": max(e["ingestionTime"] for e in events),
        }
        assert {k: described[k] for k in expected} == expected, (
            f"round {rounds}: ingestion times stored {sorted({e['ingestionTime'] for e in events})}"
        )
        rounds += 1


class OvertakenStore(SqliteStore):
    """Holds the first append back until a second one has committed."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.appends = 0
        self.first_waiting = threading.Event()
        self.second_committed = threading.Event()

    def append(self, *args, **kwargs) -> int:
        self.appends += 1
        if self.appends == 1:
            self.first_waiting.set()
            assert self.second_committed.wait(10)
            return super().append(*args, **kwargs)
        result = super().append(*args, **kwargs)
        self.second_committed.set()
        return result


def test_last_ingestion_time_when_commits_overtake(tmp_path: Path) -> None:
    """The race behind test_stream_metadata_under_concurrent_puts, made deterministic.

    PutLogEvents reads the clock before it takes the store's write lock, so a batch accepted
    later can commit first. The stream's lastIngestionTime must still be the newest one.
    """
    from logsieve.logs import LogsContext, LogsService

    store = OvertakenStore(tmp_path / "logsieve.db")
    ticks = itertools.count(now_ms())
    ops = LogsService(LogsContext(store, clock=lambda: next(ticks))).operations
    ops["CreateLogGroup"]({"logGroupName": "g"})
    ops["CreateLogStream"]({"logGroupName": "g", "logStreamName": "s"})
    t = now_ms()

    def put(message: str) -> None:
        ops["PutLogEvents"](
            {
                "logGroupName": "g",
                "logStreamName": "s",
                "logEvents": [{"timestamp": t, "message": message}],
            }
        )

    first = threading.Thread(target=put, args=("accepted first, committed second",))
    first.start()
    assert store.first_waiting.wait(10)
    put("accepted second, committed first")
    first.join(10)
    try:
        events = ops["GetLogEvents"]({"logGroupName": "g", "logStreamName": "s"})["events"]
        newest = max(e["ingestionTime"] for e in events)
        described = ops["DescribeLogStreams"]({"logGroupName": "g"})["logStreams"][0]
        assert described["lastIngestionTime"] == newest, (
            f"lastIngestionTime {described['lastIngestionTime']} is older than the event "
            f"ingested at {newest}: {events}"
        )
    finally:
        store.close()


# --- 2. hostile input --------------------------------------------------------------------------


def sign(
    url: str,
    body: bytes,
    target: str | None,
    *,
    key: str = ACCESS_KEY,
    secret: str = SECRET_KEY,
    service: str = "logs",
    when: datetime | None = None,
) -> dict[str, str]:
    headers = {"Content-Type": CONTENT_TYPE}
    if target is not None:
        headers["X-Amz-Target"] = target
    request = AWSRequest(method="POST", url=url + "/", data=body, headers=headers)
    signer = botocore.auth.SigV4Auth(Credentials(key, secret), service, "us-east-1")
    if when is None:
        signer.add_auth(request)
    else:  # the signer stamps the request with "now": sign at another moment
        with mock.patch.object(botocore.auth, "get_current_datetime", lambda: when):
            signer.add_auth(request)
    return dict(request.headers.items())


@dataclass
class Hostile:
    """A request to send: ``build(url, group, stream)`` -> (body, headers)."""

    build: Callable[[str, str, str], tuple[Any, dict[str, str]]]
    codes: frozenset[str]  # acceptable __type values
    status: int = 400


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


def _signed(op: str, body: Callable[[str, str], bytes], **kw: Any):
    def build(url: str, group: str, stream: str) -> tuple[bytes, dict[str, str]]:
        data = body(group, stream)
        return data, sign(url, data, TARGET + op, **kw)

    return build


def _put_body(group: str, stream: str, message: str = "injected") -> bytes:
    return _json(
        {
            "logGroupName": group,
            "logStreamName": stream,
            "logEvents": [{"timestamp": now_ms(), "message": message}],
        }
    )


def _put_with(**members: Any) -> Callable[[str, str], bytes]:
    def body(group: str, stream: str) -> bytes:
        base: dict[str, Any] = {
            "logGroupName": group,
            "logStreamName": stream,
            "logEvents": [{"timestamp": now_ms(), "message": "injected"}],
        }
        return _json(base | members)

    return body


def _raw(text: bytes) -> Callable[[str, str], bytes]:
    return lambda group, stream: text


def _signed_as(target: str | None):
    """A PutLogEvents body signed (correctly) with another X-Amz-Target, or none."""

    def build(url: str, group: str, stream: str) -> tuple[bytes, dict[str, str]]:
        body = _put_body(group, stream)
        return body, sign(url, body, target)

    return build


def _tampered(url: str, group: str, stream: str) -> tuple[bytes, dict[str, str]]:
    headers = sign(url, _put_body(group, stream, "signed"), TARGET + "PutLogEvents")
    return _put_body(group, stream, "swapped after signing"), headers


def _truncated_after_signing(url: str, group: str, stream: str) -> tuple[bytes, dict[str, str]]:
    body = _put_body(group, stream)
    return body[: len(body) // 2], sign(url, body, TARGET + "PutLogEvents")


def _bad_signature(url: str, group: str, stream: str) -> tuple[bytes, dict[str, str]]:
    body = _put_body(group, stream)
    headers = sign(url, body, TARGET + "PutLogEvents")
    auth = headers["Authorization"]
    flipped = "0" if auth[-1] != "0" else "1"
    headers["Authorization"] = auth[:-1] + flipped
    return body, headers


def _unsigned(url: str, group: str, stream: str) -> tuple[bytes, dict[str, str]]:
    return _put_body(group, stream), {
        "Content-Type": CONTENT_TYPE,
        "X-Amz-Target": TARGET + "PutLogEvents",
    }


def _replace_header(name: str, value: bytes, target: str = TARGET + "PutLogEvents"):
    """A correctly signed PutLogEvents with one header then replaced by raw bytes."""

    def build(url: str, group: str, stream: str) -> tuple[bytes, dict[str, Any]]:
        body = _put_body(group, stream)
        headers: dict[str, Any] = sign(url, body, target)
        headers[name] = value
        return body, headers

    return build


def _oversized_chunked(url: str, group: str, stream: str) -> tuple[Any, dict[str, str]]:
    """> 8 MB without a Content-Length (chunked), so only counting the stream can stop it."""
    headers = sign(url, b"", TARGET + "PutLogEvents")

    def chunks() -> Iterator[bytes]:
        yield b'{"logGroupName": "' + group.encode() + b'", "x": "'
        for _ in range(9):
            yield b"a" * (1024 * 1024)
        yield b'"}'

    return chunks(), headers


def _deep(depth: int, open_: bytes = b"[", close: bytes = b"]") -> bytes:
    return open_ * depth + close * depth


MARK = "@@marker@@"  # replaced by raw bytes after JSON encoding
SIGNATURE_CODES = frozenset({"InvalidSignatureException", "IncompleteSignatureException"})
SERIALIZATION = frozenset({"SerializationException"})
INVALID = frozenset({"InvalidParameterException"})
UNKNOWN_OP = frozenset({"UnknownOperationException"})
NOT_FOUND = frozenset({"ResourceNotFoundException"})

HOSTILE: dict[str, Hostile] = {
    # unparseable or mistyped JSON
    "invalid-json": Hostile(_signed("PutLogEvents", _raw(b"{not json")), SERIALIZATION),
    "json-array": Hostile(_signed("PutLogEvents", _raw(b"[]")), SERIALIZATION),
    "json-scalar": Hostile(_signed("PutLogEvents", _raw(b"42")), SERIALIZATION),
    "json-trailing-garbage": Hostile(
        _signed("PutLogEvents", lambda g, s: _put_body(g, s) + b"}}"), SERIALIZATION
    ),
    "invalid-utf8": Hostile(
        _signed(
            "PutLogEvents", lambda g, s: _put_body(g, s, MARK).replace(MARK.encode(), b"\xff\xfe")
        ),
        SERIALIZATION,
    ),
    "lone-surrogate": Hostile(
        _signed(
            "PutLogEvents", lambda g, s: _put_body(g, s, MARK).replace(MARK.encode(), rb"\ud800")
        ),
        SERIALIZATION,
    ),
    "nan-timestamp": Hostile(  # json.dumps writes the non-JSON literal NaN
        _signed("PutLogEvents", _put_with(logEvents=[{"timestamp": math.nan, "message": "x"}])),
        SERIALIZATION,
    ),
    "name-is-number": Hostile(_signed("PutLogEvents", _put_with(logGroupName=5)), SERIALIZATION),
    "name-is-object": Hostile(
        _signed("PutLogEvents", _put_with(logStreamName={"a": 1})), SERIALIZATION
    ),
    "events-is-string": Hostile(
        _signed("PutLogEvents", _put_with(logEvents="events")), SERIALIZATION
    ),
    "events-is-object": Hostile(
        _signed("PutLogEvents", _put_with(logEvents={"timestamp": 1})), SERIALIZATION
    ),
    "timestamp-is-string": Hostile(
        _signed("PutLogEvents", _put_with(logEvents=[{"timestamp": "now", "message": "x"}])),
        SERIALIZATION,
    ),
    "timestamp-is-bool": Hostile(
        _signed("PutLogEvents", _put_with(logEvents=[{"timestamp": True, "message": "x"}])),
        SERIALIZATION,
    ),
    "timestamp-fraction": Hostile(
        _signed("PutLogEvents", _put_with(logEvents=[{"timestamp": 1.5, "message": "x"}])),
        SERIALIZATION,
    ),
    "timestamp-beyond-long": Hostile(
        _signed("PutLogEvents", _put_with(logEvents=[{"timestamp": 2**63, "message": "x"}])),
        SERIALIZATION,
    ),
    "timestamp-beyond-u64": Hostile(
        _signed("PutLogEvents", _put_with(logEvents=[{"timestamp": 10**30, "message": "x"}])),
        SERIALIZATION,
    ),
    "timestamp-negative": Hostile(
        _signed("PutLogEvents", _put_with(logEvents=[{"timestamp": -1, "message": "x"}])),
        INVALID,
    ),
    "message-is-number": Hostile(
        _signed("PutLogEvents", _put_with(logEvents=[{"timestamp": now_ms(), "message": 7}])),
        SERIALIZATION,
    ),
    "message-empty": Hostile(
        _signed("PutLogEvents", _put_with(logEvents=[{"timestamp": now_ms(), "message": ""}])),
        INVALID,
    ),
    "event-is-null": Hostile(_signed("PutLogEvents", _put_with(logEvents=[None])), INVALID),
    "events-empty": Hostile(_signed("PutLogEvents", _put_with(logEvents=[])), INVALID),
    "too-many-events": Hostile(
        _signed(
            "PutLogEvents",
            _put_with(logEvents=[{"timestamp": 1_700_000_000_000, "message": "x"}] * 10_001),
        ),
        INVALID,
    ),
    "events-unsorted": Hostile(
        _signed(
            "PutLogEvents",
            lambda g, s: _put_with(
                logEvents=[
                    {"timestamp": now_ms(), "message": "b"},
                    {"timestamp": now_ms() - 10, "message": "a"},
                ]
            )(g, s),
        ),
        INVALID,
    ),
    "limit-is-string": Hostile(
        _signed("GetLogEvents", lambda g, s: _json({"logGroupName": g, "limit": "10"})),
        SERIALIZATION,
    ),
    # truncated bodies
    "truncated-signed": Hostile(
        _signed("PutLogEvents", lambda g, s: _put_body(g, s)[:-7]), SERIALIZATION
    ),
    "truncated-after-signing": Hostile(_truncated_after_signing, SIGNATURE_CODES),
    "empty-body-put": Hostile(_signed("PutLogEvents", _raw(b"")), INVALID),
    # oversized bodies
    "oversized-content-length": Hostile(
        _signed("PutLogEvents", lambda g, s: _put_body(g, s, "x" * (MAX_BODY + 1))),
        SERIALIZATION,
        status=413,
    ),
    "oversized-chunked": Hostile(_oversized_chunked, SERIALIZATION, status=413),
    "batch-too-large": Hostile(
        _signed(
            "PutLogEvents",
            _put_with(logEvents=[{"timestamp": now_ms(), "message": "y" * 700_000}] * 3),
        ),
        INVALID,
    ),
    "event-too-large": Hostile(
        _signed("PutLogEvents", lambda g, s: _put_body(g, s, "z" * 1_048_576)), INVALID
    ),
    # enormous strings in names
    "huge-group-name-create": Hostile(
        _signed("CreateLogGroup", lambda g, s: _json({"logGroupName": "g" * 5_000_000})), INVALID
    ),
    "huge-stream-name-put": Hostile(
        _signed("PutLogEvents", _put_with(logStreamName="s" * 2_000_000)),
        INVALID | NOT_FOUND,
    ),
    "huge-group-name-put": Hostile(
        _signed("PutLogEvents", _put_with(logGroupName="/" * 2_000_000)), INVALID | NOT_FOUND
    ),
    "huge-filter-pattern": Hostile(
        _signed(
            "FilterLogEvents",
            lambda g, s: _json({"logGroupName": g, "filterPattern": "{" * 1_000_000}),
        ),
        INVALID,
    ),
    "huge-token": Hostile(
        _signed(
            "GetLogEvents",
            lambda g, s: _json({"logGroupName": g, "logStreamName": s, "nextToken": "f/" * 10**6}),
        ),
        INVALID,
    ),
    # deep nesting
    "deep-arrays-as-name": Hostile(
        _signed("CreateLogGroup", _raw(b'{"logGroupName": ' + _deep(100_000) + b"}")),
        SERIALIZATION,
    ),
    "deep-objects-as-events": Hostile(
        _signed(
            "PutLogEvents",
            lambda g, s: (
                b'{"logGroupName": "%s", "logStreamName": "%s", "logEvents": %s}'
                % (g.encode(), s.encode(), _deep(50_000, b'[{"a":', b"}]"))
            ),
        ),
        SERIALIZATION,
    ),
    "deep-unknown-member": Hostile(
        _signed("PutLogEvents", lambda g, s: b'{"x": ' + _deep(1_000) + b"}"), INVALID
    ),
    "deep-inside-limit": Hostile(
        _signed("CreateLogGroup", lambda g, s: b'{"logGroupName": ' + _deep(1_000) + b"}"),
        SERIALIZATION,
    ),
    # unknown operations and targets
    "unknown-operation": Hostile(_signed("NoSuchOperation", _put_body), UNKNOWN_OP),
    "unimplemented-operation": Hostile(_signed("StartQuery", _put_body), UNKNOWN_OP),
    "wrong-case-operation": Hostile(_signed("putlogevents", _put_body), UNKNOWN_OP),
    "other-service-target": Hostile(
        _signed_as("Kinesis_20131202.PutRecord"), UNKNOWN_OP | SIGNATURE_CODES
    ),
    "no-target": Hostile(_signed_as(None), UNKNOWN_OP),
    # bad signatures
    "unsigned": Hostile(_unsigned, frozenset({"MissingAuthenticationTokenException"})),
    "wrong-secret": Hostile(_signed("PutLogEvents", _put_body, secret="x" * 40), SIGNATURE_CODES),
    "unknown-key": Hostile(
        _signed("PutLogEvents", _put_body, key="AKIANOTAREALKEY00000"),
        frozenset({"UnrecognizedClientException"}),
    ),
    "wrong-service-scope": Hostile(
        _signed("PutLogEvents", _put_body, service="kinesis"), SIGNATURE_CODES
    ),
    "flipped-signature": Hostile(_bad_signature, SIGNATURE_CODES),
    "body-swapped": Hostile(_tampered, SIGNATURE_CODES),
    "garbage-authorization": Hostile(
        _replace_header("Authorization", b"AWS4-HMAC-SHA256 \xff\xfe, Signature=zz"),
        SIGNATURE_CODES,
    ),
    "other-algorithm": Hostile(
        _replace_header("Authorization", b"AWS4-ECDSA-P256-SHA256 Credential=x"), SIGNATURE_CODES
    ),
    "bad-amz-date": Hostile(_replace_header("X-Amz-Date", b"yesterday"), SIGNATURE_CODES),
    "latin1-target": Hostile(
        _replace_header("X-Amz-Target", b"Logs_20140328.PutLog\xe9vents"),
        SIGNATURE_CODES | UNKNOWN_OP,
    ),
    "signed-an-hour-ago": Hostile(
        _signed("PutLogEvents", _put_body, when=datetime.now(UTC) - timedelta(hours=1)),
        SIGNATURE_CODES,
    ),
    "signed-in-the-future": Hostile(
        _signed("PutLogEvents", _put_body, when=datetime.now(UTC) + timedelta(hours=1)),
        SIGNATURE_CODES,
    ),
}


def _token(state: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")


# Pagination tokens are opaque to clients but can be forged: they must be validated, not fed
# to SQLite as they are.
FORGED_TOKENS: dict[str, Callable[[str, str], dict[str, Any]]] = {
    "get-events-seq-overflow-forward": lambda g, s: {
        "logGroupName": g, "logStreamName": s, "nextToken": "f/" + "9" * 56 + "/s",
    },
    "get-events-seq-overflow-backward": lambda g, s: {
        "logGroupName": g, "logStreamName": s, "nextToken": "b/" + "9" * 56,
    },
    "filter-events-token-types": lambda g, s: {
        "logGroupName": g, "nextToken": _token({"t": [1], "s": {}}),
    },
    "filter-events-token-overflow": lambda g, s: {
        "logGroupName": g, "nextToken": _token({"t": 2**63, "s": 1}),
    },
    "describe-groups-token-list": lambda g, s: {"nextToken": _token({"after": [1, 2]})},
    "describe-streams-token-arity": lambda g, s: {
        "logGroupName": g, "nextToken": _token({"after": [1, 2, 3]}),
    },
    "describe-streams-token-string": lambda g, s: {
        "logGroupName": g, "nextToken": _token({"after": "abc"}),
    },
    "describe-metric-filters-token": lambda g, s: {"nextToken": _token({"after": "x"})},
}  # fmt: skip
FORGED_OPERATION = {
    "get-events": "GetLogEvents",
    "filter-events": "FilterLogEvents",
    "describe-groups": "DescribeLogGroups",
    "describe-streams": "DescribeLogStreams",
    "describe-metric-filters": "DescribeMetricFilters",
}


@dataclass
class Snapshot:
    group: str
    stream: str
    events: list[dict[str, Any]]
    stored_bytes: int
    streams: list[str]

    @classmethod
    def take(cls, logs, group: str, stream: str) -> Snapshot:
        info = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
        streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
        return cls(
            group,
            stream,
            read_stream(logs, group, stream),
            info[0]["storedBytes"],
            [s["logStreamName"] for s in streams],
        )


@pytest.fixture(scope="module")
def stored(logs) -> Snapshot:
    group = f"/hostile/{uuid.uuid4().hex[:8]}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    t = now_ms()
    for b in range(3):
        logs.put_log_events(
            logGroupName=group,
            logStreamName="s",
            logEvents=[{"timestamp": t + b, "message": f"keep {b} {i} ✓"} for i in range(20)],
        )
    snapshot = Snapshot.take(logs, group, "s")
    assert len(snapshot.events) == 60
    return snapshot


def assert_aws_error(response: httpx.Response, codes: frozenset[str], status: int = 400) -> None:
    assert response.status_code < 500, f"server error {response.status_code}: {response.text[:300]}"
    assert 400 <= response.status_code < 500, response.text[:300]
    assert response.headers.get("content-type", "").startswith("application/x-amz-json")
    body = response.json()
    assert isinstance(body, dict) and isinstance(body.get("__type"), str), body
    assert response.headers.get("x-amzn-errortype") == body["__type"]
    assert body["__type"] in codes, body
    assert response.status_code == status, body


def assert_unchanged(logs, before: Snapshot) -> None:
    after = Snapshot.take(logs, before.group, before.stream)
    assert after == before


@pytest.mark.parametrize("case", list(HOSTILE), ids=list(HOSTILE))
def test_hostile_request_is_a_4xx_and_changes_nothing(server, logs, stored, case) -> None:
    hostile = HOSTILE[case]
    body, headers = hostile.build(server.url, stored.group, stored.stream)
    with httpx.Client(timeout=30) as http:
        response = http.post(server.url + "/", content=body, headers=headers)
    assert_aws_error(response, hostile.codes, hostile.status)
    assert_unchanged(logs, stored)


@pytest.mark.parametrize("case", list(FORGED_TOKENS), ids=list(FORGED_TOKENS))
def test_forged_pagination_token_is_not_a_5xx(server, logs, stored, case) -> None:
    """Rejected as an invalid token, or (if it still reads as a position) answered: not a 500."""
    operation = next(op for prefix, op in FORGED_OPERATION.items() if case.startswith(prefix))
    body = _json(FORGED_TOKENS[case](stored.group, stored.stream))
    response = httpx.post(
        server.url + "/", content=body, headers=sign(server.url, body, TARGET + operation)
    )
    if response.status_code == 200:
        assert isinstance(response.json(), dict)
    else:
        assert_aws_error(response, INVALID)
    assert_unchanged(logs, stored)


def _raw_exchange(server: Server, request: bytes, half_close: bool = True) -> bytes:
    """Send bytes on a fresh socket; return the response (or whatever came before a close)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(request)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        reply = b""
        try:
            while chunk := sock.recv(65536):
                reply += chunk
                head, sep, body = reply.partition(b"\r\n\r\n")
                length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                if sep and length and len(body) >= int(length.group(1)):
                    break  # one whole response: no need to wait for the server to close
        except TimeoutError:
            pass
        return reply


def _http_request(server: Server, body: bytes, headers: dict[str, str], **override: str) -> bytes:
    fields = {"Host": f"127.0.0.1:{server.port}", **headers, **override}
    head = "".join(f"{k}: {v}\r\n" for k, v in fields.items())
    return f"POST / HTTP/1.1\r\n{head}\r\n".encode() + body


def test_body_cut_short_on_the_wire_stores_nothing(server, logs, stored) -> None:
    """A correctly signed PutLogEvents whose connection dies mid-body must not be half-run."""
    body = _put_body(stored.group, stored.stream, "never complete")
    headers = sign(server.url, body, TARGET + "PutLogEvents")
    headers["Content-Length"] = str(len(body))
    reply = _raw_exchange(server, _http_request(server, body[: len(body) // 2], headers))
    assert not re.match(rb"HTTP/1\.1 5\d\d", reply), reply[:300]
    assert_unchanged(logs, stored)


def test_lying_content_length_is_refused_up_front(server, logs, stored) -> None:
    body = _put_body(stored.group, stored.stream, "small")
    headers = sign(server.url, body, TARGET + "PutLogEvents")
    headers["Content-Length"] = str(MAX_BODY * 4)
    reply = _raw_exchange(server, _http_request(server, body, headers), half_close=False)
    status = re.match(rb"HTTP/1\.1 (\d{3})", reply)
    assert status, reply[:300]
    assert status.group(1) == b"413", reply[:300]
    assert b"SerializationException" in reply
    assert_unchanged(logs, stored)


@pytest.mark.parametrize(
    "content_length", ["abc", "-5", "1e3", "99999999999999999999999999"], ids=str
)
def test_malformed_content_length_is_not_a_5xx(server, logs, stored, content_length) -> None:
    body = _put_body(stored.group, stored.stream, "odd length")
    headers = sign(server.url, body, TARGET + "PutLogEvents")
    headers["Content-Length"] = content_length
    reply = _raw_exchange(server, _http_request(server, body, headers))
    assert not re.match(rb"HTTP/1\.1 5\d\d", reply), reply[:300]
    assert_unchanged(logs, stored)


def test_server_still_serves_after_the_abuse(server, logs, stored) -> None:
    assert httpx.get(server.url + "/health", timeout=5).status_code == 200
    assert_unchanged(logs, stored)
