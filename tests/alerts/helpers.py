"""Building rules, payloads and engines for the alert tests."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from logsieve.alerts.config import AlertRule, parse_alerts
from logsieve.alerts.engine import AlertEngine
from logsieve.alerts.template_context import guess_timestamp
from logsieve.formats.awslogs import LogEvent, Payload, data_message
from logsieve.formats.vpc_flow import DEFAULT, FlowLogFormat
from logsieve.notify.message import Notification

T0 = 1_741_615_200_000  # 2025-03-10T14:00:00Z, the samples' day
MINUTE = 60_000


def rules(*tables: dict[str, Any]) -> tuple[AlertRule, ...]:
    """Rules from [[alerts]] tables, with log_groups and channels defaulted."""
    full = [{"log_groups": ["g"], "channels": ["ops"], **table} for table in tables]
    return parse_alerts(Path("logsieve.toml"), full)


class Clock:
    """A settable wall clock (seconds), so windows close when the test says."""

    def __init__(self, ms: int = T0) -> None:
        self.ms = ms

    def __call__(self) -> float:
        return self.ms / 1000

    def advance(self, ms: int) -> None:
        self.ms += ms


class Outbox:
    """What ``emit`` received, and a dedup on (channel, key) like the durable outbox."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Notification, str]] = []
        self.fail = 0  # raise on the next N calls

    def __call__(self, channel: str, notification: Notification, key: str) -> None:
        if self.fail:
            self.fail -= 1
            raise ConnectionError("outbox unavailable")
        self.calls.append((channel, notification, key))

    @property
    def keys(self) -> list[str]:
        return [key for _, _, key in self.calls]

    @property
    def notifications(self) -> list[Notification]:
        return [n for _, n, _ in self.calls]

    @property
    def titles(self) -> list[str]:
        return [n.title for n in self.notifications]


def engine(
    state: Path, rule_set: Iterable[AlertRule], clock: Clock | None = None
) -> tuple[AlertEngine, Outbox, Clock]:
    outbox, clock = Outbox(), clock or Clock()
    return AlertEngine(rule_set, state, outbox, clock=clock), outbox, clock


def event(message: str, timestamp: int, event_id: str | None = None) -> LogEvent:
    return LogEvent(event_id or f"id-{timestamp}-{hash(message) & 0xFFFF}", timestamp, message)


def payload(events: Iterable[LogEvent], group: str = "g", stream: str = "s") -> Payload:
    return data_message("123456789012", group, stream, ["rule"], list(events))


def sample_events(path: Path, prefix: str, flow_format: str | None = None) -> list[LogEvent]:
    """One LogEvent per sample line: a stable id, the time written in the record."""
    fmt = FlowLogFormat.from_string(flow_format) if flow_format else DEFAULT
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    return [
        LogEvent(f"{prefix}-{number:04d}", guess_timestamp(line, fmt) or T0, line)
        for number, line in enumerate(lines, 1)
    ]
