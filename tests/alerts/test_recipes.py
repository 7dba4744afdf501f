"""Each recipe's rendered messages over the sample data, compared byte for byte with golden
files in tests/alerts/golden/. After an intended change of a recipe's wording, rewrite them:

    LOGSIEVE_UPDATE_GOLDENS=1 pytest tests/alerts/test_recipes.py

and review the diff.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from logsieve.alerts import recipes
from logsieve.alerts.config import parse_alerts
from logsieve.alerts.engine import AlertEngine
from logsieve.formats.awslogs import LogEvent
from logsieve.formats.vpc_flow import DEFAULT, FlowLogFormat

from .helpers import Clock, Outbox, payload, sample_events

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("LOGSIEVE_UPDATE_GOLDENS") == "1"
END_OF_SAMPLES = 1_741_651_200_000  # 2025-03-11T00:00:00Z, after every sample event


def _stream(event: LogEvent, kind: str, fmt: FlowLogFormat) -> str:
    """The log stream AWS would deliver the record in (aws-compat.md section 7)."""
    if kind == "flow":
        return f"{event.message.split(' ')[fmt.fields.index('interface-id')]}-all"
    if kind == "vpn":
        return "cvpn-endpoint-0a1b2c3d4e5f67890-us-east-1-2025/03/10-FCD8HEMVaCcw"
    return "123456789012_CloudTrail_us-east-1"


def run_live(
    tables: list[dict[str, Any]],
    events: list[LogEvent],
    kind: str,
    tmp_path: Path,
    flow_format: str | None = None,
) -> Outbox:
    """The live path: deliveries of consecutive same-stream events (as the dispatcher batches
    them, only the events matching each rule's pattern), then the clock runs a day on."""
    rule_set = parse_alerts(Path("logsieve.toml"), tables)
    outbox, clock = Outbox(), Clock(END_OF_SAMPLES)
    engine = AlertEngine(rule_set, tmp_path / "alerts.db", outbox, clock=clock)
    fmt = FlowLogFormat.from_string(flow_format) if flow_format else DEFAULT
    for rule in rule_set:
        from logsieve.patterns import compile as compile_pattern

        pattern = compile_pattern(rule.pattern)
        matched = [
            dataclasses.replace(e, extracted_fields=pattern.extracted_fields(e.message))
            for e in events
            if pattern.matches(e.message)
        ]
        for stream, batch in itertools.groupby(matched, key=lambda e: _stream(e, kind, fmt)):
            engine.handle(rule.name, payload(batch, group=rule.log_groups[0], stream=stream))
    clock.advance(86_400_000)
    engine.tick()
    engine.close()
    return outbox


def render(outbox: Outbox) -> str:
    parts = []
    for number, (channel, notification, key) in enumerate(outbox.calls, 1):
        parts.append(
            f"### {number}. {channel} · {notification.severity} · {key}\n"
            f"title: {notification.title}\n"
            f"tags: {', '.join(notification.tags)}\n"
            f"aggregation_key: {notification.aggregation_key}\n\n"
            f"{notification.text}\n"
        )
    return "\n".join(parts)


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"no golden file {path}; create it with LOGSIEVE_UPDATE_GOLDENS=1")
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"{name} differs from the golden file (see the diff above)"


def test_vpn_connections(samples: Path, tmp_path: Path) -> None:
    events = sample_events(samples / "client-vpn-connections.jsonl", "vpn")
    # AWS logs a connection again on every update: repeat each connect record later.
    repeats = [
        LogEvent(f"{e.id}-again", e.timestamp + 300_000, e.message)
        for e in events
        if '"successful"' in e.message
    ]
    tables = recipes.vpn_connections(
        ["/aws/clientvpn"],
        ["slack"],
        timezone="Asia/Tokyo",
        failed_threshold=2,
        failed_window="30m",
    )
    outbox = run_live(tables, sorted(events + repeats, key=lambda e: e.timestamp), "vpn", tmp_path)
    connected = [n for n in outbox.notifications if n.source == "vpn-connections"]
    ids = [n.fields["message"].split('"connection-id":"')[1][:34] for n in connected]
    assert len(ids) == len(set(ids)) == len(repeats)  # one message per connection-id
    assert "VPN: alice connected from 198.51.100.23" in outbox.titles
    check_golden("vpn-connections.txt", render(outbox))


@pytest.mark.parametrize(
    ("options", "golden"),
    [
        ({"users": ["alice", "ops-admin"]}, "iam-user-activity.txt"),
        (
            {"users": ["ops-admin"], "write_only": True, "console_login": False},
            "iam-user-activity-write-only.txt",
        ),
    ],
)
def test_iam_user_activity(
    samples: Path, tmp_path: Path, options: dict[str, Any], golden: str
) -> None:
    events = sample_events(samples / "cloudtrail-events.jsonl", "trail")
    tables = recipes.iam_user_activity(
        ["aws-cloudtrail-logs-123456789012-4f9a2b1c"],
        ["email"],
        timezone="Europe/Paris",
        **options,
    )
    outbox = run_live(tables, events, "trail", tmp_path)
    users = {
        n.fields["message"].split('"userName":"')[1].split('"')[0] for n in outbox.notifications
    }
    assert users <= set(options["users"])
    if options.get("write_only"):
        assert all('"readOnly":false' in n.fields["message"] for n in outbox.notifications)
        assert not any("ConsoleLogin" in n.title for n in outbox.notifications)
    else:
        assert "ops-admin called StopLogging (cloudtrail)" in outbox.titles
    check_golden(golden, render(outbox))


@pytest.mark.parametrize("custom", [False, True], ids=["default-format", "custom-format"])
def test_rejected_traffic(samples: Path, tmp_path: Path, custom: bool) -> None:
    flow_format = (samples / "vpc-flow-v5-custom.format").read_text().strip() if custom else None
    log = samples / ("vpc-flow-v5-custom.log" if custom else "vpc-flow-default.log")
    events = sample_events(log, "flow", flow_format)
    tables = recipes.rejected_traffic(
        ["vpc-flow-logs"],
        ["datadog"],
        flow_format=flow_format,
        scan_ports=4,
        scan_window="15m",
    )
    outbox = run_live(tables, events, "flow", tmp_path, flow_format)
    rejects = sum(" REJECT " in e.message for e in events)
    assert 0 < len(outbox.calls) < rejects  # aggregated: fewer messages than rejected flows
    assert any(title.startswith("Port scan from ") for title in outbox.titles)
    if custom:  # the custom format's extra fields reach the message
        assert "VPC:       vpc-0f1e2d3c4b5a69788 in us-east-1" in outbox.notifications[0].text
    else:
        assert any(title.startswith("Rejected the 23 port access from ") for title in outbox.titles)
    check_golden(f"rejected-traffic-{'custom' if custom else 'default'}.txt", render(outbox))


def test_a_scan_produces_a_handful_of_messages(tmp_path: Path) -> None:
    """One source probing 1,000 ports in five minutes: not 1,000 messages."""
    start = 1_741_615_200
    lines = [
        f"2 123456789012 eni-0a1b2c3d4e5f60718 110.53.1.2 10.0.1.15 40000 {port} 6 1 40 "
        f"{start + port // 4} {start + port // 4 + 1} REJECT OK"
        for port in range(1, 1001)
    ]
    events = [LogEvent(f"e{n}", (start + n // 4) * 1000, line) for n, line in enumerate(lines)]
    tables = recipes.rejected_traffic(["vpc"], ["datadog"])
    outbox = run_live(tables, events, "flow", tmp_path)
    kinds = [(n.source, n.fields["kind"]) for n in outbox.notifications]
    assert kinds == [
        ("rejected-traffic", "event"),  # "Rejected the 1 port access from 110.53.1.2"
        ("rejected-traffic-scan", "distinct"),  # the scan, once for its window
        ("rejected-traffic", "digest"),  # 999 more, summarised
    ]
    assert outbox.titles[0] == "Rejected the 1 port access from 110.53.1.2"
    assert outbox.titles[2] == "999 more rejected port accesses from 110.53.1.2 in 1 h"


@pytest.mark.parametrize(
    "build",
    [
        lambda: recipes.vpn_connections(["g"], ["c"]),
        lambda: recipes.iam_user_activity(["g"], ["c"], ["alice"]),
        lambda: recipes.rejected_traffic(["g"], ["c"], ports=[22, 23]),
    ],
)
def test_recipe_tables_are_valid_rules(build: Callable[[], list[dict[str, Any]]]) -> None:
    tables = build()
    assert parse_alerts(Path("logsieve.toml"), tables)
    assert all(t["channels"] == ["c"] for t in tables)


def test_recipe_option_mistakes() -> None:
    with pytest.raises(ValueError, match="--user"):
        recipes.iam_user_activity(["g"], ["c"], [])
    with pytest.raises(ValueError, match="srcaddr"):
        recipes.rejected_traffic(["g"], ["c"], flow_format="${version} ${interface-id}")
    with pytest.raises(ValueError, match="--channel"):
        recipes.vpn_connections(["g"], [])
