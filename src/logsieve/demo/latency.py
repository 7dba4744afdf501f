"""Delivery latency of one alert: from the server accepting the event to the alert arriving.

The honest pair of clocks: the start is the event's ``ingestionTime`` -- stamped by the server
when it committed the PutLogEvents batch, returned by FilterLogEvents -- and the end is when the
SMTP catcher filed the email (the Maildir file's time) or the receiver took the Datadog event.
Both are this machine's clock, so the difference is what logsieve adds: dispatching, matching,
rendering, the durable outbox and the SMTP/HTTP hand-over. It leaves out the shipper's own
batching before the PutLogEvents (up to ~0.2 s here, whatever the user's agent does in real
life); the event's own timestamp would not do, as it is the time the record describes (a
flow-log record's start is up to a minute before it is written).

An alert is matched to the event that caused it through what its rendered text names: the
VPN connection id, the CloudTrail event id, or the flow's source and port -- found with a
FilterLogEvents call using a filter pattern, as a user would look it up. Alerts caused by a
count (failed VPN attempts, a port scan) have no single event and no latency.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from logsieve.formats.vpc_flow import DEFAULT

__all__ = ["LatencyProbe", "percentile"]

_CONNECTION_RE = re.compile(r"^Connection:\s+(\S+)\s*$", re.MULTILINE)
_EVENT_ID_RE = re.compile(r"^Event ID:\s+(\S+)\s*$", re.MULTILINE)
_SAFE_VALUE_RE = re.compile(r"[A-Za-z0-9.:_-]+")
_LOOK_BACK_MS = 150_000  # flow records start up to a minute before they are written
_MAX_PAGES = 50


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` 0.5 = median) of non-empty ``values``."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


def _tag(tags: Sequence[str], name: str) -> str | None:
    for tag in tags:
        key, _, value = tag.partition(":")
        if key == name and value:
            return value
    return None


def _vpn_pattern(text: str, tags: Sequence[str]) -> str | None:
    found = _CONNECTION_RE.search(text)
    if not found or not _SAFE_VALUE_RE.fullmatch(found.group(1)):
        return None
    return (
        f'{{ ($.connection-id = "{found.group(1)}") && '
        '($.connection-log-type = "connection-attempt") && '
        '($.connection-attempt-status = "successful") }'
    )


def _trail_pattern(text: str, tags: Sequence[str]) -> str | None:
    found = _EVENT_ID_RE.search(text)
    if not found or not _SAFE_VALUE_RE.fullmatch(found.group(1)):
        return None
    return f'{{ $.eventID = "{found.group(1)}" }}'


def _flow_pattern(text: str, tags: Sequence[str]) -> str | None:
    source, port = _tag(tags, "srcaddr"), _tag(tags, "dstport")
    if not source or not port or not port.isdigit() or not _SAFE_VALUE_RE.fullmatch(source):
        return None
    fields = []
    for name in DEFAULT.filter_pattern_fields():
        if name == "srcaddr":
            fields.append(f'srcaddr = "{source}"')
        elif name == "dstport":
            fields.append(f"dstport = {port}")
        elif name == "action":
            fields.append('action = "REJECT"')
        else:
            fields.append(name)
    return "[" + ", ".join(fields) + "]"


# rule name -> (the simulator whose log group holds its events, pattern for its event)
_PROBES: dict[str, tuple[str, Callable[[str, Sequence[str]], str | None]]] = {
    "vpn-connections": ("client-vpn", _vpn_pattern),
    "iam-user-activity": ("cloudtrail", _trail_pattern),
    "rejected-traffic": ("vpc-flow", _flow_pattern),
}


class LatencyProbe:
    """``measure(rule, text, tags, arrived_ms)`` -> milliseconds, or None when the alert has
    no single causing event (or it cannot be found)."""

    def __init__(self, logs_client: Any, groups: Mapping[str, str]) -> None:
        self.logs = logs_client  # a botocore "logs" client signed for the demo server
        self.groups = dict(groups)  # simulator -> log group

    def measure(self, rule: str, text: str, tags: Sequence[str], arrived_ms: int) -> int | None:
        probe = _PROBES.get(rule)
        if probe is None:
            return None
        source, make_pattern = probe
        pattern = make_pattern(text, tags)
        if pattern is None:
            return None
        ingested = self._first_ingestion(self.groups[source], pattern, arrived_ms)
        if ingested is None:
            return None
        return max(0, arrived_ms - ingested)

    def _first_ingestion(self, group: str, pattern: str, arrived_ms: int) -> int | None:
        """The earliest ``ingestionTime`` of the events matching ``pattern``: the one that
        triggered the alert (later matches were deduplicated)."""
        request: dict[str, Any] = {
            "logGroupName": group,
            "filterPattern": pattern,
            "startTime": arrived_ms - _LOOK_BACK_MS,
            "endTime": arrived_ms + 5_000,
        }
        earliest: int | None = None
        try:
            for _ in range(_MAX_PAGES):
                page = self.logs.filter_log_events(**request)
                for event in page.get("events", ()):
                    ingested = int(event["ingestionTime"])
                    earliest = ingested if earliest is None else min(earliest, ingested)
                token = page.get("nextToken")
                if not token:
                    break
                request["nextToken"] = token
        except (BotoCoreError, ClientError):  # the server stopping under us: no number
            return earliest
        return earliest
