"""The storage interface of alert state (``alerts/`` depends on this only).

What the alert engine has seen, deduplicated and windowed, and the notifications it decided but
has not yet handed to the outbox. ``alert_state_sqlite.py`` is the embedded implementation
(``alerts.db``, or a private in-memory one for dry runs); a scale-out engine implements the
same protocol.

The engine commits a state change and the notifications it decided in ONE ``transaction()``,
then hands them on; so a crash can only repeat a hand-over (same idempotency key, which the
outbox ignores), never lose or re-decide one. Not thread-safe: the engine serialises its use.
"""

from __future__ import annotations

import contextlib
from typing import Any, Protocol

# seq, idempotency key, channel, notification
PendingNotification = tuple[int, str, str, dict[str, Any]]


class AlertStateStore(Protocol):
    def transaction(self) -> contextlib.AbstractContextManager[object]:
        """Everything written inside commits together (durably) or not at all."""
        ...

    def mark_seen(self, rule: str, event_id: str, wall: int) -> bool:
        """Record the event; False when it was already processed (a redelivery)."""
        ...

    def dedup_get(self, rule: str, key: str) -> int | None:
        """The event time (ms) ``key`` was last alerted for, if remembered."""
        ...

    def dedup_put(self, rule: str, key: str, event_ms: int, expires: int) -> None:
        """Remember ``key`` (alerted for an event at ``event_ms``) until wall time ``expires``."""
        ...

    def window_get(self, rule: str, kind: str, group: str) -> dict[str, Any] | None: ...

    def window_put(
        self,
        rule: str,
        kind: str,
        group: str,
        state: dict[str, Any],
        due: int | None,
        expires: int,
    ) -> None:
        """Save a window; ``due``: when the engine must close it (digests), ``expires``: when
        an idle counting window may be forgotten (wall-clock ms)."""
        ...

    def window_delete(self, rule: str, kind: str, group: str) -> None: ...

    def windows_due(self, now: int | None) -> list[tuple[str, str, str, dict[str, Any]]]:
        """Windows whose ``due`` time has come (all with a due time when ``now`` is None),
        ordered by due time, then rule, kind and group."""
        ...

    def dedup_entries(self) -> list[tuple[str, str, int, int]]:
        """Every remembered key: (rule, key, event_ms, expires), sorted (for a copy)."""
        ...

    def windows(self) -> list[tuple[str, str, str, dict[str, Any], int | None, int]]:
        """Every window: (rule, kind, group, state, due, expires), sorted by rule, kind and
        group (for a copy)."""
        ...

    def outbox_add(self, key: str, channel: str, notification: dict[str, Any], wall: int) -> None:
        """A decided notification (ignored if ``key`` is already waiting)."""
        ...

    def outbox_pending(self, limit: int = 1000) -> list[PendingNotification]:
        """Decided notifications not yet handed on, in decision order."""
        ...

    def outbox_done(self, seq: int) -> None: ...

    def prune(self, now: int, seen_before: int) -> None:
        """Forget input ids processed before ``seen_before`` and expired dedup keys and idle
        counting windows (wall-clock ms). Digest windows (with a due time) are closed by the
        engine, which sends their follow-up first."""
        ...

    def counts(self) -> dict[str, int]:
        """Rows per kind (``seen``, ``dedup``, ``windows``, ``outbox``), for status and tests."""
        ...

    def close(self) -> None: ...
