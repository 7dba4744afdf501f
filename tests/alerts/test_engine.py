"""The engine's noise control and delivery guarantees: at-least-once in, exactly once out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from logsieve.alerts.engine import AlertEngine
from logsieve.errors import ConfigError
from logsieve.storage.alert_state_sqlite import SqliteAlertStateStore as StateStore

from .helpers import MINUTE, T0, Clock, Outbox, engine, event, payload, rules


def vpn(connection: str, status: str = "successful", device_ip: str = "198.51.100.23") -> str:
    return json.dumps(
        {
            "connection-log-type": "connection-attempt",
            "connection-attempt-status": status,
            "connection-id": connection,
            "client-vpn-endpoint-id": "cvpn-endpoint-0a1b2c3d4e5f67890",
            "device-ip": device_ip,
            "username": "alice",
        }
    )


def flow(src: str, port: int, start_ms: int) -> str:
    start = start_ms // 1000
    return (
        f"2 123456789012 eni-0a1 {src} 10.0.1.15 40000 {port} 6 1 40 {start} {start + 5} REJECT OK"
    )


# --- every event ----------------------------------------------------------------------------


def test_each_match_alerts_once_with_a_key_from_rule_and_event_id(tmp_path: Path) -> None:
    rule_set = rules({"name": "errors", "channels": ["ops", "email"], "title": "{{ message }}"})
    alerts, outbox, _ = engine(tmp_path / "alerts.db", rule_set)
    alerts.handle("errors", payload([event("ERROR one", T0, "e1"), event("ERROR two", T0, "e2")]))
    assert outbox.keys == [
        "errors/event/e1/ops",
        "errors/event/e1/email",
        "errors/event/e2/ops",
        "errors/event/e2/email",
    ]
    first = outbox.notifications[0]
    assert (first.title, first.severity, first.source, first.timestamp) == (
        "ERROR one",
        "warning",
        "errors",
        T0,
    )
    assert first.tags == ("rule:errors",)
    assert first.fields["event_id"] == "e1" and first.fields["log_group"] == "g"


def test_redelivery_and_restart_never_duplicate(tmp_path: Path) -> None:
    state = tmp_path / "alerts.db"
    rule_set = rules({"name": "errors"})
    delivery = payload([event("ERROR one", T0, "e1"), event("ERROR two", T0, "e2")])
    alerts, outbox, clock = engine(state, rule_set)
    alerts.handle("errors", delivery)
    alerts.handle("errors", delivery)  # at-least-once: the same payload again
    assert len(outbox.calls) == 2
    alerts.close()
    # A restart on the same state file, and the dispatcher redelivers after the crash.
    again = AlertEngine(rule_set, state, outbox, clock=clock)
    again.handle("errors", delivery)
    again.handle("errors", payload([event("ERROR three", T0, "e3")]))
    assert [key.split("/")[2] for key in outbox.keys] == ["e1", "e2", "e3"]


def test_a_crash_between_decision_and_outbox_repeats_the_same_key(tmp_path: Path) -> None:
    rule_set = rules({"name": "errors"})
    alerts, outbox, _ = engine(tmp_path / "alerts.db", rule_set)
    outbox.fail = 1
    delivery = payload([event("ERROR one", T0, "e1")])
    with pytest.raises(ConnectionError):
        alerts.handle("errors", delivery)  # the dispatcher will retry this delivery
    assert outbox.calls == []
    alerts.close()
    restarted = AlertEngine(rule_set, tmp_path / "alerts.db", outbox, clock=Clock())
    restarted.handle("errors", delivery)  # the event is known; the decided alert goes out
    restarted.tick()
    assert outbox.keys == ["errors/event/e1/ops"]


def test_dedup_key_suppresses_within_the_window_across_restarts(tmp_path: Path) -> None:
    state = tmp_path / "alerts.db"
    rule_set = rules(
        {"name": "vpn", "dedup_key": '{{ vpn["connection-id"] }}', "dedup_window": "1h"}
    )
    alerts, outbox, clock = engine(state, rule_set)
    alerts.handle("vpn", payload([event(vpn("cvpn-connection-a"), T0, "e1")]))
    # AWS logs the same connection again (new event id); a repeated line too.
    alerts.handle("vpn", payload([event(vpn("cvpn-connection-a"), T0 + 10 * MINUTE, "e2")]))
    alerts.close()
    restarted = AlertEngine(rule_set, state, outbox, clock=clock)
    restarted.handle("vpn", payload([event(vpn("cvpn-connection-a"), T0 + 50 * MINUTE, "e3")]))
    restarted.handle("vpn", payload([event(vpn("cvpn-connection-b"), T0 + 50 * MINUTE, "e4")]))
    # After the window, the same key alerts again.
    restarted.handle("vpn", payload([event(vpn("cvpn-connection-a"), T0 + 61 * MINUTE, "e5")]))
    assert [key.split("/")[2] for key in outbox.keys] == ["e1", "e4", "e5"]


# --- digests --------------------------------------------------------------------------------


def test_digest_first_match_now_then_one_follow_up_with_counts(tmp_path: Path) -> None:
    rule_set = rules(
        {
            "name": "rejects",
            "pattern": '[..., action = "REJECT", status]',
            "digest_window": "10m",
            "top_keys": ["srcaddr", "dstport"],
            "title": "{{ flow.srcaddr }} -> {{ flow.dstport }}",
        }
    )
    alerts, outbox, clock = engine(tmp_path / "alerts.db", rule_set)
    sources = ["192.0.2.1", "192.0.2.1", "192.0.2.1", "192.0.2.9", "192.0.2.1"]
    ports = [22, 23, 23, 3389, 445]
    events = [
        event(flow(src, port, T0 + i * MINUTE), T0 + i * MINUTE, f"e{i}")
        for i, (src, port) in enumerate(zip(sources, ports, strict=True))
    ]
    alerts.handle("rejects", payload(events[:2]))
    assert outbox.titles == ["192.0.2.1 -> 22"]  # the first alerts immediately
    alerts.handle("rejects", payload(events[2:]))
    alerts.tick()
    assert len(outbox.calls) == 1  # the rest wait for the window
    clock.advance(10 * MINUTE)
    alerts.tick()
    assert len(outbox.calls) == 2
    follow_up = outbox.notifications[1]
    assert follow_up.title == "rejects: 4 more matches in 10 min"
    assert "Top srcaddr: 192.0.2.1 (3), 192.0.2.9 (1)" in follow_up.text
    assert "Top dstport: 23 (2), 445 (1), 3389 (1)" in follow_up.text
    assert "from 2025-03-10 14:01:00 UTC to 2025-03-10 14:04:00 UTC" in follow_up.text
    assert outbox.keys[1] == f"rejects/digest/{outbox.keys[1].split('/')[2]}/{T0}/ops"
    alerts.tick()
    assert len(outbox.calls) == 2  # one follow-up per window, never repeated


def test_digest_groups_and_event_time_windows(tmp_path: Path) -> None:
    rule_set = rules(
        {
            "name": "rejects",
            "pattern": '[..., action = "REJECT", status]',
            "digest_window": "10m",
            "digest_group_by": "{{ flow.srcaddr }}",
        }
    )
    alerts, outbox, _ = engine(tmp_path / "alerts.db", rule_set)
    # A replay: two hours of old events arrive at once. Windows follow the events' time.
    week_ago = T0 - 7 * 86_400_000
    a = [
        event(flow("192.0.2.1", 22, week_ago + m * MINUTE), week_ago + m * MINUTE, f"a{m}")
        for m in (0, 1, 2, 30)
    ]
    b = [event(flow("192.0.2.2", 22, week_ago + MINUTE), week_ago + MINUTE, "b1")]
    alerts.handle("rejects", payload(a[:3] + b))
    assert len(outbox.calls) == 2  # one first alert per source
    alerts.handle("rejects", payload(a[3:]))
    # Event time passed the window: its follow-up (2 more) and a new first alert.
    assert [n.fields["kind"] for n in outbox.notifications] == [
        "event",
        "event",
        "digest",
        "event",
    ]
    assert outbox.notifications[2].title == "rejects: 2 more matches for 192.0.2.1 in 10 min"


def test_digest_follow_up_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "alerts.db"
    rule_set = rules({"name": "errors", "digest_window": "5m"})
    alerts, outbox, clock = engine(state, rule_set)
    alerts.handle("errors", payload([event("ERROR a", T0, "e1"), event("ERROR b", T0 + 1, "e2")]))
    alerts.close()
    clock.advance(5 * MINUTE)
    restarted = AlertEngine(rule_set, state, outbox, clock=clock)
    restarted.tick()
    assert [n.fields["kind"] for n in outbox.notifications] == ["event", "digest"]
    assert outbox.notifications[1].fields["count"] == 1


# --- thresholds -----------------------------------------------------------------------------


def test_threshold_grouped_alerts_once_per_window(tmp_path: Path) -> None:
    rule_set = rules(
        {
            "name": "vpn-failed",
            "pattern": '{ $.connection-attempt-status = "failed" }',
            "threshold": {"count": 5, "window": "10m", "group_by": '{{ vpn["device-ip"] }}'},
        }
    )
    alerts, outbox, _ = engine(tmp_path / "alerts.db", rule_set)

    def failures(ip: str, count: int, start: int) -> list:
        return [
            event(vpn(f"c-{ip}-{start}-{i}", "failed", ip), start + i * MINUTE, f"{ip}-{start}-{i}")
            for i in range(count)
        ]

    alerts.handle("vpn-failed", payload(failures("203.0.113.1", 4, T0)))  # 4 < 5
    alerts.handle("vpn-failed", payload(failures("203.0.113.2", 7, T0)))  # crosses once
    assert len(outbox.calls) == 1
    crossing = outbox.notifications[0]
    assert crossing.title == "vpn-failed: 5 matches within 10 min for 203.0.113.2"
    assert crossing.fields["count"] == 5 and crossing.fields["group"] == "203.0.113.2"
    # After the window that alerted, five more failures make a new crossing.
    alerts.handle("vpn-failed", payload(failures("203.0.113.2", 5, T0 + 20 * MINUTE)))
    assert len(outbox.calls) == 2
    assert len(set(outbox.keys)) == 2


def test_threshold_counts_event_time_not_arrival_time(tmp_path: Path) -> None:
    rule_set = rules({"name": "errors", "threshold": {"count": 3, "window": "10m"}})
    alerts, outbox, _ = engine(tmp_path / "alerts.db", rule_set)
    # Three errors 8 minutes apart arrive together (a replay): never 3 within 10 minutes.
    spread = [event(f"ERROR {i}", T0 + i * 8 * MINUTE, f"e{i}") for i in range(3)]
    alerts.handle("errors", payload(spread))
    assert outbox.calls == []
    # One more at minute 17: minutes 8, 16 and 17 are three within ten minutes. The next
    # one falls in the window that already alerted.
    alerts.handle(
        "errors",
        payload([event("ERROR x", T0 + 17 * MINUTE, "x"), event("ERROR y", T0 + 18 * MINUTE, "y")]),
    )
    assert len(outbox.calls) == 1
    assert outbox.notifications[0].fields["window_start"] == T0 + 8 * MINUTE
    assert outbox.notifications[0].fields["count"] == 3


# --- distinct counts ------------------------------------------------------------------------


def test_distinct_ports_from_one_source(tmp_path: Path) -> None:
    rule_set = rules(
        {
            "name": "scan",
            "pattern": '[..., action = "REJECT", status]',
            "distinct": {
                "key": "dstport",
                "count": 10,
                "window": "10m",
                "group_by": "{{ flow.srcaddr }}",
            },
            "title": "{{ group }} probed {{ distinct_count }} ports: {{ values | join(',') }}",
        }
    )
    alerts, outbox, _ = engine(tmp_path / "alerts.db", rule_set)
    scanner = [
        event(flow("192.0.2.66", port, T0 + i * 1000), T0 + i * 1000, f"s{i}")
        for i, port in enumerate(
            [22, 22, 23, 80, 443, 445, 1433, 3306, 3389, 5432, 8080, 8443, 9000]
        )
    ]
    neighbour = [event(flow("192.0.2.77", port, T0), T0, f"n{port}") for port in range(20, 29)]
    alerts.handle("scan", payload(scanner + neighbour))
    assert outbox.titles == [
        "192.0.2.66 probed 10 ports: 22,23,80,443,445,1433,3306,3389,5432,8080"
    ]
    assert outbox.notifications[0].fields["count"] == 11  # port 22 twice


# --- building and dry runs ------------------------------------------------------------------


def test_unknown_channel_is_a_config_error_at_build_time(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="channel 'ops' is not declared"):
        AlertEngine(rules({"name": "r"}), tmp_path / "alerts.db", Outbox(), channels=["slack"])


def test_dry_run_keeps_no_state_and_sends_nothing(tmp_path: Path) -> None:
    rule_set = rules({"name": "errors", "pattern": "ERROR", "digest_window": "1h"})
    alerts, outbox, _ = engine(tmp_path / "alerts.db", rule_set)
    sent = alerts.test("errors", ["ERROR a", "INFO b", "ERROR c", "ERROR d"])
    assert [(channel, n.fields["kind"], n.fields["count"]) for channel, n in sent] == [
        ("ops", "event", 1),
        ("ops", "digest", 2),
    ]
    assert outbox.calls == []
    assert StateStore(tmp_path / "alerts.db").counts() == {
        "seen": 0,
        "dedup": 0,
        "windows": 0,
        "outbox": 0,
    }


def test_state_file_is_wal_and_full_sync(tmp_path: Path) -> None:
    alerts, _, _ = engine(tmp_path / "alerts.db", rules({"name": "r"}))
    db = alerts._store._db
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_state_is_pruned(tmp_path: Path) -> None:
    rule_set = rules({"name": "r", "dedup_key": "{{ message }}", "dedup_window": "1h"})
    alerts, _, clock = engine(tmp_path / "alerts.db", rule_set)
    alerts.handle("r", payload([event("x", T0, "e1")]))
    alerts.tick()
    clock.advance(4 * 86_400_000)
    alerts.tick()
    assert alerts._store.counts() == {"seen": 0, "dedup": 0, "windows": 0, "outbox": 0}
