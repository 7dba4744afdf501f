"""Copy what the alerting path still owes: notifications waiting in the outbox (pending only:
sent ones were delivered, given-up ones stay behind with the source, so nothing is sent twice),
and the alert engine's dedup keys, counting and digest windows, and decided notifications not
yet handed to the outbox.

Once only: outbox items are enqueued under their idempotency key (a keyless one gets
``storage-copy/<source>/<id>``), which the target's outbox ignores when it has it already;
dedup keys and windows are written only where the target has none (the target may have moved
on since). Not copied: the ids of events the engine already processed (event ids change in
the copy, so a redelivery after the move is new to it; dedup keys still suppress repeats).
"""

from __future__ import annotations

import hashlib
import time

from ..alert_state import AlertStateStore
from ..outbox import OutboxStore
from .report import CopyReport, Say

__all__ = ["copy_alert_state", "copy_outbox"]


def copy_outbox(
    source: OutboxStore, target: OutboxStore, source_name: str, report: CopyReport, say: Say
) -> None:
    digest = hashlib.sha256(source_name.encode()).hexdigest()[:12]
    entries = [
        (kind, payload, key if key is not None else f"storage-copy/{digest}/{item_id}", dest)
        for item_id, (kind, payload, key, dest) in source.pending_entries()
    ]
    added = len(target.enqueue(entries, time.time())) if entries else 0
    report.add("pending notifications", True, added)
    report.add("pending notifications", False, len(entries) - added)
    say(f"outbox: {added} pending notifications copied")


def copy_alert_state(
    source: AlertStateStore, target: AlertStateStore, report: CopyReport, say: Say
) -> None:
    with target.transaction():
        for rule, key, event_ms, expires in source.dedup_entries():
            new = target.dedup_get(rule, key) is None
            if new:
                target.dedup_put(rule, key, event_ms, expires)
            report.add("alert dedup keys", new)
        for rule, kind, group, state, due, expires in source.windows():
            new = target.window_get(rule, kind, group) is None
            if new:
                target.window_put(rule, kind, group, state, due, expires)
            report.add("alert windows", new)
        waiting = {row[1] for row in target.outbox_pending(1_000_000)}
        for _, key, channel, notification in source.outbox_pending(1_000_000):
            new = key not in waiting
            if new:
                target.outbox_add(key, channel, notification, int(time.time() * 1000))
            report.add("decided alert notifications", new)
    say(f"alert state: {report.copied.get('alert windows', 0)} windows copied")
