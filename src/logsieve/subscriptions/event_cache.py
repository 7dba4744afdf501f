"""Parsed events shared by the subscriptions of a log group.

Two filters on one group read the same new events moments apart; the second finds each
message's JSON document and field split already computed. Bounded: a lagging subscription
simply parses again.
"""

from __future__ import annotations

from logsieve.patterns import Event

DEFAULT_CAPACITY = 50_000


class EventCache:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self._events: dict[int, Event] = {}

    def event(self, seq: int, message: str) -> Event:
        """The shared :class:`Event` for the stored event ``seq``.

        Safe without a lock: dict operations are atomic, and a race only builds an Event twice.
        """
        found = self._events.get(seq)
        if found is None:
            found = self._events[seq] = Event(message)
            if len(self._events) > self.capacity:
                self._evict()
        return found

    def known(self, seq: int, message: str) -> Event:
        """The shared :class:`Event` if a consumer has parsed ``seq`` already, else a fresh
        one that is not kept: for a reader of whole windows (metric counting), holding every
        event it parsed would cost more in garbage collection than parsing again saves."""
        found = self._events.get(seq)
        return Event(message) if found is None else found

    def _evict(self) -> None:
        # Drop the oldest half (dicts keep insertion order); copying keys avoids mutating
        # while another thread iterates.
        for seq in list(self._events)[: self.capacity // 2]:
            self._events.pop(seq, None)
