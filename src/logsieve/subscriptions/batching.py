"""Turn a run of stored events into the payloads one subscription delivers.

Pure and synchronous: the dispatcher runs it on a worker thread. Matches are grouped by log
stream (a payload never mixes streams), kept in append order, and cut into payloads that stay
under the size cap; each payload is gzip'd here, off the event loop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from logsieve.formats.awslogs import LogEvent, Payload, data_message, encode
from logsieve.patterns import FilterPattern
from logsieve.storage import StoredEvent, event_id

from .event_cache import EventCache

# JSON framing per event beyond its message: the 56-digit id, the timestamp, keys, quotes.
_EVENT_OVERHEAD = 110


@dataclass(frozen=True)
class Batch:
    """One payload ready to deliver, with what status and dead letters need to know."""

    stream: str
    payload: Payload
    data: bytes  # gzip of the payload JSON
    events: int
    first_timestamp: int
    last_timestamp: int


def match_events(
    pattern: FilterPattern, events: Sequence[StoredEvent], cache: EventCache
) -> dict[int, list[LogEvent]]:
    """The matching events by stream id, with ``extractedFields`` for space-delimited patterns.

    JSON and space-delimited patterns share one parsed :class:`Event` per stored event
    through ``cache``, so two subscriptions of a group parse each message once.
    """
    by_stream: dict[int, list[LogEvent]] = {}
    if not pattern.text.strip():  # the empty pattern matches everything
        for timestamp, seq, _, stream_id, _, message in events:
            by_stream.setdefault(stream_id, []).append(
                LogEvent(event_id(timestamp, seq), timestamp, message)
            )
        return by_stream
    kind = pattern.kind
    if kind == "space":
        extract = pattern.extracted_fields
        for timestamp, seq, _, stream_id, _, message in events:
            fields = extract(cache.event(seq, message))
            if fields is not None:
                by_stream.setdefault(stream_id, []).append(
                    LogEvent(event_id(timestamp, seq), timestamp, message, fields or None)
                )
        return by_stream
    test: Callable[[StoredEvent], bool]
    if kind == "json":
        match_event = pattern.match_event
        event_of = cache.event

        def test(e: StoredEvent) -> bool:
            return match_event(event_of(e[1], e[5]))
    else:
        matches = pattern.matches

        def test(e: StoredEvent) -> bool:
            return matches(e[5])

    for e in events:
        if test(e):
            timestamp, seq, _, stream_id, _, message = e
            by_stream.setdefault(stream_id, []).append(
                LogEvent(event_id(timestamp, seq), timestamp, message)
            )
    return by_stream


def build_batches(
    owner: str,
    group: str,
    filter_name: str,
    stream: str,
    events: list[LogEvent],
    max_bytes: int,
) -> list[Batch]:
    """One stream's matches as payloads of at most ``max_bytes`` of JSON (estimated)."""
    batches: list[Batch] = []
    start, size = 0, 0
    for index, event in enumerate(events):
        cost = len(event.message) + _EVENT_OVERHEAD
        if event.extracted_fields:
            cost += sum(len(k) + len(v) + 6 for k, v in event.extracted_fields.items())
        if size + cost > max_bytes and index > start:
            batches.append(_batch(owner, group, filter_name, stream, events[start:index]))
            start, size = index, 0
        size += cost
    if start < len(events):
        batches.append(_batch(owner, group, filter_name, stream, events[start:]))
    return batches


def _batch(owner: str, group: str, name: str, stream: str, events: list[LogEvent]) -> Batch:
    payload = data_message(owner, group, stream, [name], events)
    return Batch(
        stream, payload, encode(payload), len(events), events[0].timestamp, events[-1].timestamp
    )
