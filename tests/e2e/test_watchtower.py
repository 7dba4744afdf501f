"""watchtower's CloudWatchLogHandler shipping Python `logging` records to the real server."""

from __future__ import annotations

import json
import logging
import uuid
import warnings
from collections.abc import Iterator

import pytest
import watchtower

from tests.e2e.helpers import now_ms, unique_group
from tests.server import Server, client


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    log = logging.getLogger(f"e2e.watchtower.{uuid.uuid4().hex[:8]}")
    log.setLevel(logging.DEBUG)
    log.propagate = False
    yield log
    for handler in list(log.handlers):
        log.removeHandler(handler)
        handler.close()


def ship(cwl, log: logging.Logger, records: list[tuple[int, object]], **handler_options) -> None:
    """Log `records` through a fresh handler, close it, and fail on any watchtower warning.

    watchtower never raises on a failed delivery: it only warns (from its sender thread), so the
    warnings are the only signal that the server answered something the library did not expect.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        handler = watchtower.CloudWatchLogHandler(boto3_client=cwl, **handler_options)
        log.addHandler(handler)
        for level, message in records:
            log.log(level, message)
        handler.flush()
        log.removeHandler(handler)
        handler.close()
    problems = [w for w in caught if issubclass(w.category, watchtower.WatchtowerWarning)]
    assert [str(w.message) for w in problems] == []


def test_records_arrive_in_order(server: Server, logs, logger: logging.Logger) -> None:
    group = unique_group("watchtower")
    before = now_ms()
    records: list[tuple[int, object]] = [
        (logging.INFO, "service started"),
        (logging.WARNING, {"event": "login", "user": "alice", "attempts": 3, "ok": False}),
        (logging.ERROR, "naïve café ✓ 日本語 — unicode survives"),
        (logging.DEBUG, "line one\nline two"),
        (logging.INFO, "service stopped"),
    ]
    ship(
        client(server), logger, records,
        log_group_name=group, log_stream_name="app/{logger_name}", create_log_group=True,
        send_interval=0.2,
    )  # fmt: skip
    after = now_ms()

    groups = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert [g["logGroupName"] for g in groups] == [group]  # created by the handler
    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert [s["logStreamName"] for s in streams] == [f"app/{logger.name}"]  # created on demand

    got = logs.get_log_events(
        logGroupName=group, logStreamName=f"app/{logger.name}", startFromHead=True
    )["events"]
    assert [e["message"] for e in got] == [
        "service started",
        json.dumps(records[1][1]),
        "naïve café ✓ 日本語 — unicode survives",
        "line one\nline two",
        "service stopped",
    ]
    assert json.loads(got[1]["message"]) == records[1][1]
    stamps = [e["timestamp"] for e in got]
    assert stamps == sorted(stamps) and before <= stamps[0] and stamps[-1] <= after

    found = logs.filter_log_events(logGroupName=group, filterPattern='{ $.user = "alice" }')
    assert [e["message"] for e in found["events"]] == [json.dumps(records[1][1])]
    found = logs.filter_log_events(logGroupName=group, filterPattern='"日本語"')
    assert [e["message"] for e in found["events"]] == [records[2][1]]
    found = logs.filter_log_events(logGroupName=group, filterPattern='"line two"')
    assert [e["message"] for e in found["events"]] == ["line one\nline two"]


def test_many_batches_with_sequence_tokens(server: Server, logs, logger: logging.Logger) -> None:
    """Small batches force several PutLogEvents calls, each passing the previous sequence token."""
    group = unique_group("watchtower-batches")
    logs.create_log_group(logGroupName=group)  # exists already: the handler must cope
    messages = [f"event {i:03d}" for i in range(120)]
    cwl, puts, outcomes = client(server), [], []
    cwl.meta.events.register(
        "provide-client-params.logs.PutLogEvents", lambda params, **_: puts.append(dict(params))
    )
    cwl.meta.events.register(
        "after-call.logs.PutLogEvents",
        lambda parsed, **_: outcomes.append(parsed.get("Error", {}).get("Code", "ok")),
    )
    ship(
        cwl, logger, [(logging.INFO, m) for m in messages],
        log_group_name=group, log_stream_name="batches", create_log_group=True,
        max_batch_count=25, send_interval=5,  # flush() sends early; batches close at 25
    )  # fmt: skip
    got, token = [], None
    while True:
        kwargs = {"nextToken": token} if token else {}
        page = logs.get_log_events(
            logGroupName=group, logStreamName="batches", startFromHead=True, limit=50, **kwargs
        )
        if page["nextForwardToken"] == token:
            break
        got += [e["message"] for e in page["events"]]
        token = page["nextForwardToken"]
    assert got == messages
    # The first put finds no stream; watchtower creates it on that ResourceNotFoundException and
    # retries. Every later batch carries the sequence token the previous response returned.
    assert outcomes == ["ResourceNotFoundException"] + ["ok"] * (len(puts) - 1)
    sizes = [len(p["logEvents"]) for p in puts[1:]]
    assert sum(sizes) == 120 and max(sizes) == 25 and len(sizes) >= 5
    assert "sequenceToken" not in puts[1]
    assert all("sequenceToken" in p for p in puts[2:])


def test_without_queues_every_record_is_sent_at_once(
    server: Server, logs, logger: logging.Logger
) -> None:
    group = unique_group("watchtower-sync")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        handler = watchtower.CloudWatchLogHandler(
            boto3_client=client(server), log_group_name=group, log_stream_name="sync",
            use_queues=False,
        )  # fmt: skip
        logger.addHandler(handler)
        logger.info("first")
        # No flush: with use_queues=False the record is on the server as soon as log() returns.
        first = logs.get_log_events(logGroupName=group, logStreamName="sync")["events"]
        logger.error("second %s", "formatted")
        second = logs.get_log_events(logGroupName=group, logStreamName="sync")["events"]
    assert [w for w in caught if issubclass(w.category, watchtower.WatchtowerWarning)] == []
    assert [e["message"] for e in first] == ["first"]
    assert [e["message"] for e in second] == ["first", "second formatted"]
