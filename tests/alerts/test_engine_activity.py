"""What the engine did, read by the console: per rule the events it processed, duplicates it
suppressed, redeliveries it skipped, notifications it handed over (with their event ids and
times, for ingest-to-alert latency); and the digest windows still open."""

from __future__ import annotations

from pathlib import Path

from .helpers import MINUTE, T0, engine, event, payload, rules


def test_activity_counts_suppressed_duplicates_and_handed_over_notifications(
    tmp_path: Path,
) -> None:
    rule_set = rules(
        {"name": "vpn", "dedup_key": "{{ message }}", "dedup_window": "1h"},
        {"name": "quiet"},
    )
    alerts, outbox, clock = engine(tmp_path / "alerts.db", rule_set)
    alerts.handle("vpn", payload([event("a", T0, "e1"), event("a", T0 + 1, "e2"),
                                  event("b", T0 + 2, "e3")]))  # fmt: skip
    clock.advance(5)
    alerts.handle("vpn", payload([event("a", T0 + 3, "e4"), event("b", T0 + 2, "e3")]))

    activity = alerts.activity()
    vpn = activity["vpn"]
    assert (vpn.processed, vpn.suppressed, vpn.redelivered, vpn.notifications) == (4, 2, 1, 2)
    assert [(n.event_id, n.log_group, n.handed_over) for n in vpn.recent] == [
        ("e1", "g", T0), ("e3", "g", T0),
    ]  # fmt: skip
    assert len(outbox.calls) == 2
    quiet = activity["quiet"]
    assert (quiet.processed, quiet.suppressed, quiet.notifications, quiet.recent) == (0, 0, 0, [])


def test_open_windows_lists_digests_until_they_close(tmp_path: Path) -> None:
    rule_set = rules({"name": "errors", "digest_window": "10m", "digest_group_by": "{{ message }}"})
    alerts, outbox, clock = engine(tmp_path / "alerts.db", rule_set)
    alerts.handle("errors", payload([event("x", T0, "e1"), event("x", T0 + 1, "e2"),
                                     event("y", T0 + 2, "e3")]))  # fmt: skip

    windows = sorted(alerts.open_windows(), key=lambda w: w.group)
    assert [(w.rule, w.group, w.start, w.end, w.due, w.count) for w in windows] == [
        ("errors", "x", T0, T0 + 10 * MINUTE, T0 + 10 * MINUTE, 1),
        ("errors", "y", T0 + 2, T0 + 2 + 10 * MINUTE, T0 + 10 * MINUTE, 0),
    ]
    clock.advance(10 * MINUTE)
    alerts.tick()
    assert alerts.open_windows() == []
    assert alerts.activity()["errors"].notifications == len(outbox.calls) == 3
