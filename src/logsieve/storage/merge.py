"""Reading many stored chunks as one ordered stream of events.

Each chunk holds one PutLogEvents batch, sorted by timestamp (AWS requires that). Chunks of
different streams, or late batches, overlap in time, so a read merges them. Chunks arrive
ordered by where they start in the reading direction (``min_ts`` ascending, or ``max_ts``
descending for newest-first reads) and are loaded only when the read reaches them. Everything
before the next unloaded chunk's boundary is safe to emit, so events go out in windows: each
window is the loaded chunks' events up to that boundary, merged by ``list.sort`` (timsort
merges the sorted runs in C), rather than one heap operation per event. Readers take the
windows whole: a scan tests a window's messages in one C-level pass, and
``itertools.chain.from_iterable`` flattens them for readers that want single events.
"""

from __future__ import annotations

import itertools
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple

from .records import StoredEvent

MAX_CHUNK_SPAN_MS = 24 * 3_600_000  # PutLogEvents' rule, which bounds how far back to look


class ChunkRef(NamedTuple):
    seq: int
    min_ts: int
    max_ts: int


Loader = Callable[[ChunkRef], list[StoredEvent]]


def merge(
    chunks: Iterable[ChunkRef], load: Loader, newest_first: bool
) -> Iterator[list[StoredEvent]]:
    """Events of ``chunks`` in (timestamp, seq) order, descending when ``newest_first``, as
    consecutive non-empty windows.

    ``chunks`` must be ordered by ``min_ts`` ascending (by ``max_ts`` descending when
    ``newest_first``); ``load`` returns a chunk's events ascending, limited to the read range.
    """
    pending = iter(chunks)
    upcoming = next(pending, None)
    active: list[list[StoredEvent]] = []  # what is left of each loaded chunk, ascending
    while active or upcoming is not None:
        # Load every chunk that may hold events ahead of (or level with) what is loaded.
        while upcoming is not None and (not active or _reaches(upcoming, active, newest_first)):
            events = load(upcoming)
            if events:
                active.append(events)
            upcoming = next(pending, None)
        if not active:
            continue
        window: list[StoredEvent] = []
        rest: list[list[StoredEvent]] = []
        for events in active:
            if upcoming is None:
                cut = len(events) if not newest_first else 0
            elif newest_first:  # events newer than anything the next chunk can hold
                cut = bisect_left(events, (upcoming.max_ts + 1,))
            else:  # events older than anything the next chunk can hold
                cut = bisect_left(events, (upcoming.min_ts,))
            take, keep = (
                (events[cut:], events[:cut]) if newest_first else (events[:cut], events[cut:])
            )
            window.extend(take)
            if keep:
                rest.append(keep)
        if len(active) > 1:
            window.sort(reverse=newest_first)
        elif newest_first:
            window.reverse()
        active = rest
        if window:
            yield window


def _reaches(chunk: ChunkRef, active: list[list[StoredEvent]], newest_first: bool) -> bool:
    """Whether ``chunk`` may hold the next event to emit (so it must be loaded first)."""
    if newest_first:
        return chunk.max_ts >= max(events[-1][0] for events in active)
    return chunk.min_ts <= min(events[0][0] for events in active)


def stream_page(
    windows_for: Callable[[int | None, bool], Iterator[list[StoredEvent]]],
    end: int | None,
    after: tuple[int, int] | None,
    before: tuple[int, int] | None,
    limit: int,
) -> list[StoredEvent]:
    """One GetLogEvents page, oldest first, from an engine's ``windows_for(hi, newest_first)``:
    the newest events when paging backwards (a ``before`` token, or a negative ``limit`` with no
    ``after``), ``end`` exclusive as GetLogEvents' endTime is. Shared by every engine so the
    paging rules cannot drift apart."""
    newest_first = after is None and (before is not None or limit < 0)
    hi = None if end is None else end - 1
    windows = windows_for(hi, newest_first)
    page = list(itertools.islice(itertools.chain.from_iterable(windows), abs(limit)))
    windows.close()  # type: ignore[attr-defined]
    return page[::-1] if newest_first else page
