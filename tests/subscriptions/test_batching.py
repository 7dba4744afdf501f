"""Matching stored events and cutting them into awslogs payloads."""

from __future__ import annotations

import json

from logsieve.formats.awslogs import decode
from logsieve.patterns import compile
from logsieve.storage import event_id
from logsieve.subscriptions.batching import build_batches, match_events
from logsieve.subscriptions.event_cache import EventCache

FLOW = (
    "2 123456789012 eni-0a1b2c3d 10.0.0.5 203.0.113.9 443 49152 6 10 840 1700000000 "
    "1700000060 {action} OK"
)


def stored(seq: int, message: str, stream: int = 1, ts: int = 1_700_000_000_000):
    return (ts + seq, seq, 7, stream, ts + seq + 5, message)


def test_space_pattern_gives_bare_named_extracted_fields() -> None:
    pattern = compile("[version, account, eni, src, dst, sport, dport, proto, packets, bytes, "
                      "start, end, action = REJECT, status]")  # fmt: skip
    events = [stored(1, FLOW.format(action="ACCEPT")), stored(2, FLOW.format(action="REJECT"))]
    found = match_events(pattern, events, EventCache())
    assert list(found) == [1]
    (event,) = found[1]
    assert event.id == event_id(events[1][0], 2)
    assert event.extracted_fields == {
        "version": "2", "account": "123456789012", "eni": "eni-0a1b2c3d", "src": "10.0.0.5",
        "dst": "203.0.113.9", "sport": "443", "dport": "49152", "proto": "6",
        "packets": "10", "bytes": "840", "start": "1700000000", "end": "1700000060",
        "action": "REJECT", "status": "OK",
    }  # fmt: skip


def test_unnamed_positions_give_no_extracted_fields() -> None:
    found = match_events(compile("[..., action = REJECT, status]"), [stored(1, FLOW.format(
        action="REJECT"))], EventCache())  # fmt: skip
    assert found[1][0].extracted_fields == {"action": "REJECT", "status": "OK"}
    found = match_events(compile("[...]"), [stored(1, "a b")], EventCache())
    assert found[1][0].extracted_fields is None


def test_json_and_term_patterns_have_no_extracted_fields_and_group_by_stream() -> None:
    events = [
        stored(1, '{"user": "alice", "n": 1}', stream=1),
        stored(2, '{"user": "bob", "n": 2}', stream=2),
        stored(3, '{"user": "alice", "n": 3}', stream=2),
        stored(4, "plain alice text", stream=1),
    ]
    by_json = match_events(compile('{ $.user = "alice" }'), events, EventCache())
    assert {k: [e.message for e in v] for k, v in by_json.items()} == {
        1: ['{"user": "alice", "n": 1}'], 2: ['{"user": "alice", "n": 3}'],
    }  # fmt: skip
    by_term = match_events(compile("alice"), events, EventCache())
    assert [e.message for e in by_term[1]] == ['{"user": "alice", "n": 1}', "plain alice text"]
    assert all(e.extracted_fields is None for v in by_term.values() for e in v)


def test_empty_pattern_matches_everything() -> None:
    events = [stored(i, f"line {i}") for i in range(1, 6)]
    assert len(match_events(compile(""), events, EventCache())[1]) == 5


def test_cache_shares_one_parsed_event_per_message() -> None:
    cache = EventCache(capacity=4)
    first = cache.event(1, '{"a": 1}')
    assert cache.event(1, '{"a": 1}') is first
    for seq in range(2, 10):
        cache.event(seq, "x")
    assert len(cache._events) <= 5  # bounded


def test_batches_respect_the_size_cap_keep_order_and_decode_exactly() -> None:
    events = [stored(i, f"message number {i} " + "x" * 200) for i in range(1, 101)]
    matched = match_events(compile(""), events, EventCache())[1]
    batches = build_batches("123456789012", "/grp", "f1", "stream-a", matched, 5_000)
    assert len(batches) > 1
    assert [e for b in batches for e in b.payload.log_events] == matched
    for batch in batches:
        assert len(batch.payload.to_json()) <= 5_000 + 400
        assert batch.data[:10] == b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x00"
        decoded = json.loads(decode(batch.data).to_json())
        assert list(decoded) == [
            "messageType", "owner", "logGroup", "logStream", "subscriptionFilters", "logEvents",
        ]  # fmt: skip
        assert decoded["messageType"] == "DATA_MESSAGE"
        assert decoded["owner"] == "123456789012"
        assert decoded["logStream"] == "stream-a"
        assert decoded["subscriptionFilters"] == ["f1"]
        assert batch.events == len(decoded["logEvents"])
        assert batch.first_timestamp == decoded["logEvents"][0]["timestamp"]


def test_an_oversized_single_event_still_gets_its_own_payload() -> None:
    matched = match_events(compile(""), [stored(1, "y" * 10_000)], EventCache())[1]
    assert len(build_batches("1", "/g", "f", "s", matched, 1_000)) == 1
