"""storage/copying/alerting.py into each engine: only pending outbox items are copied (each
once, keyless ones too), and the alert engine's dedup keys, windows and decided notifications
arrive without overwriting what the target already has."""

from __future__ import annotations

from pathlib import Path

from logsieve.storage.copying import CopyReport
from logsieve.storage.copying.alerting import copy_alert_state, copy_outbox
from logsieve.storage.factory import Stores, open_stores


def _ready(stores: Stores, kind: str) -> list[tuple[str, bytes]]:
    outbox = stores.outbox()
    try:
        return [(i.dest, i.payload) for i in outbox.ready(kind, 1e12, {}, 99, [], 99)[0]]
    finally:
        outbox.close()


def test_pending_notifications_are_copied_once_and_only_they(
    tmp_path: Path, stores: Stores
) -> None:
    source = open_stores(tmp_path / "source", "sqlite")
    old = source.outbox()
    try:
        old.enqueue(
            [("sns", b"sent", "k1", "a"), ("sns", b"owed", "k2", "a"),
             ("sns", b"owed too", None, "b"), ("email", b"gone", None, "c")], 1
        )  # fmt: skip
        sent = old.ready("sns", 10, {}, 9, [], 9)[0][0].id
        old.mark_sent("sns", "a", sent, 2)
        gone = old.ready("email", 10, {}, 9, [], 9)[0][0].id
        old.mark_given_up("email", "c", gone, 2, "refused", 2, None)
        reports = [CopyReport(), CopyReport()]
        for report in reports:
            new = stores.outbox()
            try:
                copy_outbox(old, new, "/data/old", report, lambda line: None)
            finally:
                new.close()
    finally:
        old.close()
    assert reports[0].copied["pending notifications"] == 2
    assert reports[1].copied["pending notifications"] == 0
    assert reports[1].present["pending notifications"] == 2
    assert _ready(stores, "sns") == [("a", b"owed"), ("b", b"owed too")]
    assert _ready(stores, "email") == []


def test_alert_state_arrives_without_overwriting_the_target(tmp_path: Path, stores: Stores) -> None:
    old, new = open_stores(tmp_path / "source", "sqlite").alert_state(), stores.alert_state()
    try:
        with old.transaction():
            old.dedup_put("vpn", "alice", 5, 10**13)
            old.dedup_put("vpn", "bob", 6, 10**13)
            old.window_put("vpn", "digest", "g", {"items": ["a"]}, due=50, expires=10**13)
            old.outbox_add("n1", "email", {"subject": "hi"}, 7)
        with new.transaction():
            new.dedup_put("vpn", "bob", 9, 10**13)  # the target moved on: kept
        first, again = CopyReport(), CopyReport()
        copy_alert_state(old, new, first, lambda line: None)
        copy_alert_state(old, new, again, lambda line: None)
        assert first.copied == {"alert dedup keys": 1, "alert windows": 1,
                                "decided alert notifications": 1}  # fmt: skip
        assert again.copied == {}
        assert new.dedup_entries() == [("vpn", "alice", 5, 10**13), ("vpn", "bob", 9, 10**13)]
        assert new.windows() == old.windows()
        assert [row[1:] for row in new.outbox_pending()] == [("n1", "email", {"subject": "hi"})]
    finally:
        old.close()
        new.close()
