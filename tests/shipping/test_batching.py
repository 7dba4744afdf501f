"""The batcher keeps every batch within PutLogEvents' limits, exactly at the boundaries."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from logsieve.shipping.batching import (
    EVENT_OVERHEAD,
    MAX_BATCH_BYTES,
    MAX_EVENT_BYTES,
    MAX_SPAN_MS,
    Batch,
    Batcher,
    fit_message,
    message_size,
)

T0 = 1_741_615_200_000


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def add_all(batcher: Batcher, events: list[tuple[str, int, str]]) -> list[Batch]:
    out: list[Batch] = []
    for stream, ts, message in events:
        out.extend(batcher.add(stream, ts, message))
    return out + batcher.drain()


def test_ten_thousand_events_per_batch() -> None:
    batches = add_all(Batcher(), [("s", T0, "x")] * 25_001)
    assert [len(b) for b in batches] == [10_000, 10_000, 5_001]


def test_a_full_batch_is_handed_back_at_once() -> None:
    batcher = Batcher()
    for _ in range(9_999):
        assert not batcher.add("s", T0, "x")
    (full,) = batcher.add("s", T0, "x")
    assert len(full) == 10_000 and batcher.pending == 0


def test_byte_limit_counts_26_bytes_per_event() -> None:
    # 1,048,576 = 4 * (262,118 + 26) exactly: four events fit, a fifth byte does not.
    message = "m" * (MAX_BATCH_BYTES // 4 - EVENT_OVERHEAD)
    batches = add_all(Batcher(), [("s", T0, message)] * 4)
    assert [len(b) for b in batches] == [4]
    assert batches[0].size == MAX_BATCH_BYTES
    batches = add_all(Batcher(), [("s", T0, message)] * 3 + [("s", T0, message + "m")])
    assert [len(b) for b in batches] == [3, 1]


def test_bytes_are_utf8_bytes() -> None:
    assert message_size("é") == 2 and message_size("€") == 3 and message_size("a") == 1
    message = "€" * ((MAX_BATCH_BYTES // 2 - EVENT_OVERHEAD) // 3)  # two fit by bytes
    batches = add_all(Batcher(), [("s", T0, message)] * 3)
    assert [len(b) for b in batches] == [2, 1]


def test_span_of_24_hours() -> None:
    events = [("s", T0, "a"), ("s", T0 + MAX_SPAN_MS, "b"), ("s", T0 + MAX_SPAN_MS + 1, "c")]
    batches = add_all(Batcher(), events)
    assert [[e["message"] for e in b.events] for b in batches] == [["a", "b"], ["c"]]
    # Going back in time counts too.
    events = [("s", T0, "a"), ("s", T0 - MAX_SPAN_MS - 1, "b")]
    assert [len(b) for b in add_all(Batcher(), events)] == [1, 1]


def test_out_of_order_events_are_sorted_stably() -> None:
    events = [("s", T0 + 5, "late"), ("s", T0, "early-1"), ("s", T0 + 5, "late-2"),
              ("s", T0, "early-2")]  # fmt: skip
    (batch,) = add_all(Batcher(), events)
    assert [e["message"] for e in batch.events] == ["early-1", "early-2", "late", "late-2"]
    assert batch.low == T0 and batch.high == T0 + 5


def test_streams_are_batched_separately() -> None:
    batches = add_all(Batcher(), [("a", T0, "1"), ("b", T0, "2"), ("a", T0, "3")])
    assert {b.stream: [e["message"] for e in b.events] for b in batches} == {
        "a": ["1", "3"],
        "b": ["2"],
    }


def test_flush_interval() -> None:
    clock = FakeClock()  # steps of 1/8 s: exact in binary floating point
    batcher = Batcher(flush_interval=0.25, clock=clock)
    batcher.add("a", T0, "1")
    clock.now += 0.125
    batcher.add("b", T0, "2")
    assert batcher.deadline == 100.25
    assert batcher.due() == []
    clock.now += 0.125
    (due,) = batcher.due()
    assert due.stream == "a" and batcher.deadline == 100.375
    clock.now += 0.125
    assert [b.stream for b in batcher.due()] == ["b"]
    assert batcher.deadline == float("inf") and not batcher


def test_oversized_message_is_truncated_on_a_character_boundary() -> None:
    limit = MAX_EVENT_BYTES - EVENT_OVERHEAD
    text, cut = fit_message("€" * limit)
    assert cut and message_size(text) <= limit and limit - message_size(text) < 3
    assert text == "€" * (limit // 3)
    batcher = Batcher()
    batcher.add("s", T0, "x" * (limit + 10))
    (batch,) = batcher.drain()
    assert message_size(batch.events[0]["message"]) == limit and batcher.truncated == 1


def test_marks_follow_the_last_event() -> None:
    batcher = Batcher(max_events=2)
    assert not batcher.add("s", T0, "a", mark=1)
    (batch,) = batcher.add("s", T0, "b", mark=2)
    assert batch.mark == 2


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["s1", "s2", "s3"]),
            st.integers(T0 - 3 * MAX_SPAN_MS, T0 + 3 * MAX_SPAN_MS),
            st.text(min_size=1, max_size=3000),
        ),
        max_size=400,
    ),
    st.integers(1, 50),
    st.integers(200, 60_000),
)
def test_every_batch_is_valid_and_nothing_is_lost(
    events: list[tuple[str, int, str]], max_events: int, max_bytes: int
) -> None:
    batcher = Batcher(max_events=max_events, max_bytes=max_bytes, max_event_bytes=max_bytes)
    batches = add_all(batcher, events)
    for batch in batches:
        timestamps = [e["timestamp"] for e in batch.events]
        assert 1 <= len(batch) <= max_events
        assert timestamps == sorted(timestamps)
        assert timestamps[-1] - timestamps[0] <= MAX_SPAN_MS
        size = sum(message_size(e["message"]) + EVENT_OVERHEAD for e in batch.events)
        assert size == batch.size <= max_bytes
    if batcher.truncated == 0:
        sent = sorted((b.stream, e["timestamp"], e["message"]) for b in batches for e in b.events)
        assert sent == sorted(events)
    else:
        assert sum(len(b) for b in batches) == len(events)
