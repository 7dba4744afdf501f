"""The chunk merge against a plain sort, on random overlapping chunks."""

from __future__ import annotations

from itertools import chain

from hypothesis import given, settings
from hypothesis import strategies as st

from logsieve.storage.merge import ChunkRef, merge
from logsieve.storage.records import StoredEvent

chunk_timestamps = st.lists(
    st.lists(st.integers(0, 60), min_size=1, max_size=8).map(sorted), max_size=8
)


def build(all_ts: list[list[int]]) -> dict[ChunkRef, list[StoredEvent]]:
    chunks = {}
    for c, ts in enumerate(all_ts, 1):
        events = [(t, (c << 14) | i, 1, c, 0, f"m{c}.{i}") for i, t in enumerate(ts)]
        chunks[ChunkRef(c, ts[0], ts[-1])] = events
    return chunks


@settings(max_examples=300, deadline=None)
@given(chunk_timestamps)
def test_merge_equals_sorting(all_ts: list[list[int]]) -> None:
    chunks = build(all_ts)
    everything = sorted(e for events in chunks.values() for e in events)
    forward = sorted(chunks, key=lambda r: (r.min_ts, r.seq))
    backward = sorted(chunks, key=lambda r: (-r.max_ts, r.seq))
    windows = list(merge(forward, lambda r: list(chunks[r]), False))
    assert all(windows) and list(chain.from_iterable(windows)) == everything
    windows = list(merge(backward, lambda r: list(chunks[r]), True))
    assert all(windows) and list(chain.from_iterable(windows)) == everything[::-1]


def test_chunks_load_only_when_reached() -> None:
    chunks = build([[0, 1, 2], [10, 11], [20]])
    loaded: list[int] = []

    def load(ref: ChunkRef) -> list[StoredEvent]:
        loaded.append(ref.seq)
        return list(chunks[ref])

    windows = merge(sorted(chunks, key=lambda r: r.min_ts), load, False)
    assert next(windows)[0][0] == 0
    assert loaded == [1]  # the later chunks are not read for the first page
