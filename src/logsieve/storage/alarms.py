"""The storage interface of CloudWatch alarms (``metrics/alarms/`` depends on this only).

An alarm is stored as its configuration (the PutMetricAlarm members, normalised, as a JSON
object: read and written whole, never queried), its state, its tags and a ``seq`` in creation
order. History items live apart from alarms because they outlive them (AWS keeps an alarm's
history after it is deleted). A state change and the history items that record it are written
in one transaction, so a crash never leaves a transition without its history or the reverse.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["AlarmRow", "AlarmStore", "HistoryRow", "StateChange"]


@dataclass(frozen=True)
class AlarmRow:
    """One metric alarm: configuration, state and tags."""

    name: str
    config: dict[str, Any]
    state_value: str = "INSUFFICIENT_DATA"
    state_reason: str = "Unchecked: Initial alarm creation"
    state_reason_data: str | None = None
    state_updated_ms: int = 0
    state_transitioned_ms: int = 0
    config_updated_ms: int = 0
    tags: dict[str, str] = field(default_factory=dict)
    seq: int = 0


@dataclass(frozen=True)
class HistoryRow:
    """One DescribeAlarmHistory item; ``seq`` is assigned by the store."""

    alarm_name: str
    timestamp_ms: int
    item_type: str  # ConfigurationUpdate | StateUpdate | Action
    summary: str
    data: str
    alarm_type: str = "MetricAlarm"
    seq: int = 0


@dataclass(frozen=True)
class StateChange:
    """A new state for an alarm; applied only while the alarm's configuration is still the one
    evaluated (``config_updated_ms``), so an evaluation racing a PutMetricAlarm is dropped."""

    state_value: str
    state_reason: str
    state_reason_data: str | None
    at_ms: int
    config_updated_ms: int | None = None  # None: whatever the configuration is
    #: Actions the transition runs, ``(idempotency key, payload)``: kept with the state in the
    #: same transaction until handed on (``pending_actions`` / ``actions_done``), so a crash
    #: between the two never loses them.
    actions: Sequence[tuple[str, bytes]] = ()


class AlarmStore(Protocol):
    """Durable alarms and their history. Every method is thread-safe and durable on return."""

    def put_alarm(self, row: AlarmRow, history: Sequence[HistoryRow] = ()) -> AlarmRow:
        """Create ``row``, or replace the configuration (and ``config_updated_ms``) of the
        alarm of that name keeping its state and tags (PutMetricAlarm ignores Tags on an
        update); with ``history`` in the same transaction. Returns the stored row."""
        ...

    def get_alarm(self, name: str) -> AlarmRow | None: ...

    def list_alarms(
        self, after_name: str | None = None, limit: int | None = None, prefix: str | None = None
    ) -> Sequence[AlarmRow]:
        """Alarms by name (AWS lists them alphabetically), after ``after_name``, whose names
        start with ``prefix``, at most ``limit`` (None: all)."""
        ...

    def delete_alarms(self, names: Sequence[str], history: Sequence[HistoryRow] = ()) -> list[str]:
        """Delete the named alarms that exist and record ``history`` (for those only): the
        names deleted."""
        ...

    def set_state(
        self, name: str, change: StateChange, history: Sequence[HistoryRow] = ()
    ) -> AlarmRow | None:
        """Apply ``change`` and record ``history`` in one transaction; the updated row, or
        None when the alarm is gone or its configuration changed since it was read (then
        nothing is written). ``state_transitioned_ms`` moves only when the value changes."""
        ...

    def set_config(self, name: str, config: Mapping[str, Any]) -> AlarmRow | None:
        """Replace an alarm's configuration without marking it updated (Enable/Disable
        AlarmActions); None when there is no such alarm."""
        ...

    def tag(self, name: str, tags: Mapping[str, str]) -> AlarmRow | None:
        """Add or replace tags; None when there is no such alarm."""
        ...

    def untag(self, name: str, keys: Sequence[str]) -> AlarmRow | None: ...

    def add_history(self, history: Sequence[HistoryRow], once: str | None = None) -> bool:
        """Record ``history``; with ``once`` (an action's key), only the first time that key
        is given (a retried action is recorded once). True if recorded."""
        ...

    def prune_history(self, before_ms: int) -> int:
        """Forget history items older than ``before_ms`` (AWS keeps two weeks): how many."""
        ...

    def pending_actions(self, limit: int = 100) -> Sequence[tuple[int, str, bytes]]:
        """Actions of committed transitions not yet handed on: ``(id, key, payload)``, oldest
        first."""
        ...

    def actions_done(self, ids: Sequence[int]) -> None:
        """Forget actions that were handed on."""
        ...

    def add_copied_actions(self, actions: Sequence[tuple[str, bytes]]) -> int:
        """Make actions pending that ``storage copy`` read from another store's
        ``pending_actions``, ``(key, payload)``: each key only the first time it is copied
        here, even after it was handed on (a re-run of the copy queues nothing twice). How many
        were added."""
        ...

    def history(
        self,
        alarm_name: str | None = None,
        item_type: str | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
        newest_first: bool = True,
        after_seq: int | None = None,
        limit: int = 100,
    ) -> Sequence[HistoryRow]:
        """History items (of one alarm or all; of one type or all) with start <= timestamp
        < end, in ``seq`` order (newest first by default), after ``after_seq`` in that order."""
        ...

    def close(self) -> None: ...
