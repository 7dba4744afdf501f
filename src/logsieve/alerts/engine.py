"""The alert engine: turns matched log events into notifications, with noise control.

Input is at-least-once (the subscription dispatcher redelivers after a crash), output must be
exactly-once per decision. Both are reconciled in :mod:`.state`: each payload is processed in
one SQLite transaction that records the event ids it saw, the dedup keys and windows it
changed, and the notifications it decided; only after that commit are the notifications
handed to ``emit`` (the durable outbox), each with an idempotency key derived from the rule
and the event id -- or the window, for digests and thresholds. A redelivered event is skipped
by id; a crash between commit and hand-over repeats the hand-over with the same key.

Noise control itself (dedup, digests, thresholds, distinct counts, all on event time) lives in
:mod:`.noise`.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from logsieve.formats.awslogs import DATA_MESSAGE, LogEvent, Payload
from logsieve.notify.message import Notification
from logsieve.storage.alert_state import AlertStateStore
from logsieve.storage.factory import open_alert_state

from .activity import OpenWindow, RuleActivity
from .config import AlertRule, check_channels
from .noise import CompiledRule, Decision, Processor
from .template_context import StoredEvent, guess_timestamp

__all__ = ["AlertEngine", "Emit"]

log = logging.getLogger(__name__)

Emit = Callable[[str, Notification, str], None]
"""``emit(channel_name, notification, idempotency_key)``: durably enqueue one notification."""

SEEN_RETENTION_MS = 3 * 86_400_000  # > the dispatcher's 24 h retry window
PRUNE_EVERY_MS = 60_000


def _notification_to_json(notification: Notification) -> dict[str, Any]:
    data = dataclasses.asdict(notification)
    data["tags"] = list(notification.tags)
    return data


def _notification_from_json(data: Mapping[str, Any]) -> Notification:
    return Notification(**{**data, "tags": tuple(data.get("tags", ()))})


class AlertEngine:
    """Alert rules as subscription consumers.

    ``emit(channel, notification, idempotency_key)`` must durably enqueue and ignore a key it
    has already enqueued (the outbox's contract); it is called from the thread that calls
    :meth:`handle` or :meth:`tick`, after the decision is committed. ``state`` is the
    store (``Stores.alert_state()``), or a path: a SQLite file, or a data directory meaning
    its alerts file (tools and tests). ``channels``, when given (names or
    ``Config.channels``), is checked against every
    rule: an unknown name is a ConfigError now rather than a failed delivery later.
    """

    def __init__(
        self,
        rules: Iterable[AlertRule],
        state: AlertStateStore | Path,
        emit: Emit,
        clock: Callable[[], float] = time.time,
        channels: Collection[Any] | None = None,
    ) -> None:
        rules = tuple(rules)
        if channels is not None:
            check_channels(rules, channels)
            self._channels: frozenset[str] | None = frozenset(
                getattr(channel, "name", channel) for channel in channels
            )
        else:
            self._channels = None
        names = [rule.name for rule in rules]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"alert rules with the same name: {', '.join(duplicates)}")
        self._rules = {rule.name: CompiledRule(rule) for rule in rules}
        self._emit = emit
        self._clock = clock
        self._lock = threading.RLock()
        self._store = open_alert_state(state) if isinstance(state, Path | str) else state
        self._processor = Processor(self._rules, self._store)
        self._last_prune = 0
        self._activity = {name: RuleActivity() for name in self._rules}

    @property
    def rules(self) -> tuple[AlertRule, ...]:
        return tuple(compiled.rule for compiled in self._rules.values())

    def rule(self, name: str) -> AlertRule:
        return self._compiled(name).rule

    def close(self) -> None:
        with self._lock:
            self._store.close()

    # -- read by the console ----------------------------------------------------------------------
    def activity(self) -> dict[str, RuleActivity]:
        """Per rule, what it did since the engine started (copies: safe to keep)."""
        with self._lock:
            found = {name: item.copy() for name, item in self._activity.items()}
            for name, item in found.items():
                item.suppressed = self._processor.suppressed[name]
            return found

    def open_windows(self) -> list[OpenWindow]:
        """The digest windows still collecting, soonest due first."""
        with self._lock:
            return [OpenWindow.of(rule, group, state)
                    for rule, kind, group, state in self._store.windows_due(None)
                    if kind == "digest"]  # fmt: skip

    def _now(self) -> int:
        return int(self._clock() * 1000)

    def _compiled(self, name: str) -> CompiledRule:
        try:
            return self._rules[name]
        except KeyError:
            known = ", ".join(self._rules) or "none"
            raise KeyError(f"no alert rule named {name!r} (rules: {known})") from None

    # -- live path ------------------------------------------------------------------------------
    def handle(self, rule_name: str, payload: Payload) -> None:
        """Process the events of one delivery (they matched the rule's pattern).

        Blocks until every decided notification is handed to ``emit``; raises if ``emit``
        fails, so the dispatcher retries the delivery (already-seen events are skipped and the
        pending notifications are handed over again).
        """
        rule = self._compiled(rule_name)
        if payload.message_type != DATA_MESSAGE:
            return
        with self._lock:
            now = self._now()
            with self._store.transaction():
                activity = self._activity[rule.name]
                for event in payload.log_events:
                    if not self._store.mark_seen(rule.name, event.id, now):
                        activity.redelivered += 1
                        continue  # redelivered: its effects are already recorded
                    activity.processed += 1
                    stored = StoredEvent.of(payload.log_group, payload.log_stream, event)
                    self._queue(rule, self._processor.process(rule, stored, now), now)
            self._flush(raise_errors=True)

    def tick(self) -> None:
        """Close digest windows that are due (sending their follow-ups), hand over anything
        still pending, and now and then forget expired state. Call it about every second."""
        with self._lock:
            now = self._now()
            due = self._store.windows_due(now)
            if due:
                with self._store.transaction():
                    for rule_name, kind, group, state in due:
                        self._close(rule_name, kind, group, state, now)
            self._flush(raise_errors=False)
            if now - self._last_prune >= PRUNE_EVERY_MS:
                self._last_prune = now
                self._store.prune(now, now - SEEN_RETENTION_MS)

    def _close(
        self, rule_name: str, kind: str, group: str, state: dict[str, Any], now: int
    ) -> None:
        rule = self._rules.get(rule_name)
        if rule is None or kind != "digest":  # the rule was removed from the config
            self._store.window_delete(rule_name, kind, group)
            return
        self._queue(rule, self._processor.close_digest(rule, group, state, now), now)

    def _queue(self, rule: CompiledRule, decisions: list[Decision], now: int) -> None:
        for decision in decisions:
            body = _notification_to_json(decision.notification)
            for channel in rule.rule.channels:
                self._store.outbox_add(f"{decision.key}/{channel}", channel, body, now)

    def _flush(self, raise_errors: bool) -> None:
        while True:
            pending = self._store.outbox_pending()
            if not pending:
                return
            for seq, key, channel, body in pending:
                if self._channels is not None and channel not in self._channels:
                    log.warning("event=alert_channel_gone channel=%s key=%s", channel, key)
                    self._store.outbox_done(seq)
                    continue
                try:
                    self._emit(channel, _notification_from_json(body), key)
                except Exception as exc:
                    log.warning(
                        "event=alert_emit_failed channel=%s key=%s error=%r", channel, key, exc
                    )
                    if raise_errors:
                        raise
                    return
                self._store.outbox_done(seq)
                fields = body.get("fields") or {}
                if fields.get("rule") in self._activity:
                    self._activity[fields["rule"]].handed_over(fields, self._now())

    # -- dry run ----------------------------------------------------------------------------------
    def test(
        self,
        rule_name: str,
        messages: Sequence[str | LogEvent],
        log_group: str = "test",
        log_stream: str = "test",
    ) -> list[tuple[str, Notification]]:
        """What the rule would send for these events, without state or sending.

        Only messages that match the rule's pattern count, as in a real delivery. Plain
        messages get the time written in them (flow ``start``, CloudTrail ``eventTime``, Client
        VPN update time) or the clock; every window is closed at the end, so digest
        follow-ups appear too. Returns ``(channel, notification)`` pairs in sending order.
        """
        rule = self._compiled(rule_name)
        now = self._now()
        store = open_alert_state(":memory:")
        try:
            processor = Processor(self._rules, store)
            decisions: list[Decision] = []
            for number, item in enumerate(messages, start=1):
                event = self._test_event(rule, item, number, now)
                if event is None:
                    continue
                stored = StoredEvent.of(log_group, log_stream, event)
                decisions += processor.process(rule, stored, now)
            for _, _, group, state in store.windows_due(None):
                decisions += processor.close_digest(rule, group, state, now)
        finally:
            store.close()
        return [
            (channel, decision.notification)
            for decision in decisions
            for channel in rule.rule.channels
        ]

    @staticmethod
    def _test_event(
        rule: CompiledRule, item: str | LogEvent, number: int, now: int
    ) -> LogEvent | None:
        message = item.message if isinstance(item, LogEvent) else item
        if not rule.pattern.matches(message):
            return None
        extracted = rule.pattern.extracted_fields(message)
        if isinstance(item, LogEvent):
            return dataclasses.replace(item, extracted_fields=item.extracted_fields or extracted)
        timestamp = guess_timestamp(message, rule.flow_format)
        return LogEvent(
            f"test-{number}", timestamp if timestamp is not None else now, message, extracted
        )
