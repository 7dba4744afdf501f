"""What a template sees: one log event parsed once into ``event``/``fields``/``flow``/``trail``/
``vpn``, and the aggregate names (``count``, ``events``, ``top``...) for digests and thresholds.

Parsing is best effort by design: a message that is not JSON simply has ``event == {}``, a
line that is not a flow record has ``flow is None``. Rules on any log group get the same
names, and a template shows what is there instead of failing on what is not.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import orjson

from logsieve.formats import cloudtrail, vpc_flow
from logsieve.formats.awslogs import LogEvent

from . import helpers
from .helpers import to_datetime

__all__ = [
    "StoredEvent",
    "aggregate_context",
    "event_context",
    "guess_timestamp",
    "lookup",
]

_VPN_KEYS = ("connection-log-type", "connection-id", "client-vpn-endpoint-id")


@dataclasses.dataclass(frozen=True)
class StoredEvent:
    """The part of a log event kept in window state, enough to rebuild its context."""

    id: str
    timestamp: int
    message: str
    log_group: str
    log_stream: str
    extracted_fields: dict[str, str] | None = None

    @classmethod
    def of(cls, log_group: str, log_stream: str, event: LogEvent) -> StoredEvent:
        return cls(
            event.id, event.timestamp, event.message, log_group, log_stream, event.extracted_fields
        )

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StoredEvent:
        return cls(**data)


def _json(message: str) -> dict[str, Any] | None:
    text = message.lstrip()
    if not text.startswith("{"):
        return None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _trail(doc: dict[str, Any]) -> dict[str, Any] | None:
    if not all(isinstance(doc.get(key), str) for key in cloudtrail.REQUIRED_FIELDS):
        return None
    source = str(doc.get("eventSource", ""))
    return {
        **doc,
        "who": dataclasses.asdict(cloudtrail.who(doc)),
        "service": source.removesuffix(".amazonaws.com"),
        "error": doc.get("errorCode") or doc.get("errorMessage") or None,
        "read_only": cloudtrail.is_read_only(doc),
        "console_login": cloudtrail.is_console_login(doc),
    }


def _vpn(doc: dict[str, Any]) -> dict[str, Any] | None:
    if not all(key in doc for key in _VPN_KEYS):
        return None
    record = {key: (None if value == "NA" else value) for key, value in doc.items()}
    record["who"] = record.get("username") or record.get("common-name")
    return record


def _flow(message: str, flow_format: vpc_flow.FlowLogFormat) -> tuple[dict, dict] | None:
    tokens = message.rstrip("\r\n").split(" ")
    if len(tokens) != len(flow_format.fields):
        return None
    try:
        record = flow_format.parse(message)
    except ValueError:
        return None
    flow = {
        name: (str(value) if value is not None and not isinstance(value, int) else value)
        for name, value in record.items()
    }
    fields: dict[str, str] = {}
    for name, token in zip(flow_format.fields, tokens, strict=True):
        fields[name] = token
        fields[name.replace("-", "_")] = token  # the names a space-delimited pattern uses
    return flow, fields


def _summary(
    message: str,
    flow: dict[str, Any] | None,
    trail: dict[str, Any] | None,
    vpn: dict[str, Any] | None,
) -> str:
    """One readable line per event, for digests and default titles."""
    if flow is not None:
        if flow.get("log-status") in ("NODATA", "SKIPDATA") or flow.get("srcaddr") is None:
            return f"{flow.get('log-status') or '-'} on {flow.get('interface-id') or '-'}"
        protocol = helpers.protocol_name(flow.get("protocol"))
        source = f"{flow.get('srcaddr')}:{flow.get('srcport', '-')}"
        target = f"{flow.get('dstaddr')}:{flow.get('dstport', '-')}"
        return f"{flow.get('action') or '-'} {protocol} {source} -> {target}"
    if trail is not None:
        text = (
            f"{trail['who']['display']} called {trail.get('eventName')} on {trail['service']}"
            f" from {trail.get('sourceIPAddress') or '-'}"
        )
        return text + (f" (error: {trail['error']})" if trail["error"] else "")
    if vpn is not None:
        status = vpn.get("connection-attempt-status") or "reset"
        reason = vpn.get("connection-attempt-failure-reason")
        text = (
            f"{vpn.get('who') or '-'}: {vpn.get('connection-log-type')} {status}"
            f" from {vpn.get('device-ip') or '-'}"
        )
        return text + (f" ({reason})" if reason else "")
    line = message.strip().split("\n", 1)[0]
    return line if len(line) <= 200 else line[:199] + "…"


def event_context(
    stored: StoredEvent, flow_format: vpc_flow.FlowLogFormat = vpc_flow.DEFAULT
) -> dict[str, Any]:
    """The per-event names: ``event``, ``fields``, ``flow``, ``trail``, ``vpn``, ``message``,
    ``timestamp``, ``log_group``, ``log_stream``, ``event_id`` and ``summary`` (one line)."""
    doc = _json(stored.message)
    flow = trail = vpn = None
    fields: dict[str, Any] = {}
    if doc is not None:
        trail = _trail(doc)
        vpn = None if trail is not None else _vpn(doc)
    else:
        parsed = _flow(stored.message, flow_format)
        if parsed is not None:
            flow, fields = parsed
    if stored.extracted_fields:
        fields = {**fields, **stored.extracted_fields}
    return {
        "summary": _summary(stored.message, flow, trail, vpn),
        "event": doc if doc is not None else {},
        "fields": fields,
        "flow": flow,
        "trail": trail,
        "vpn": vpn,
        "message": stored.message,
        "timestamp": stored.timestamp,
        "log_group": stored.log_group,
        "log_stream": stored.log_stream,
        "event_id": stored.id,
    }


def _path(value: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        else:
            return None
    return value


def lookup(context: Mapping[str, Any], name: str) -> str | None:
    """A plain field name's value in an event context, as text: ``fields`` (extracted or flow
    fields), then ``flow``, the JSON ``event`` (dotted paths: ``userIdentity.userName``),
    ``trail``, ``vpn``, then the top-level names (``message``, ``log_stream``...)."""
    for scope in ("fields", "flow", "event", "trail", "vpn"):
        found = _path(context.get(scope), name)
        if found is not None:
            break
    else:
        found = _path(context, name)
    if found is None or isinstance(found, Mapping | list):
        return None if found is None else orjson.dumps(found).decode()
    if isinstance(found, bool):
        return "true" if found else "false"
    return str(found)


def _sort_key(value: str) -> tuple[int, float, str]:
    """Numbers in numeric order (ports), then text."""
    try:
        return (0, float(value), value)
    except ValueError:
        return (1, 0.0, value)


def sorted_values(values: Iterable[str]) -> list[str]:
    return sorted(values, key=_sort_key)


def aggregate_context(
    base: Mapping[str, Any],
    *,
    count: int,
    events: Sequence[Mapping[str, Any]],
    window: Mapping[str, Any] | None,
    group: str | None,
    value_of: Callable[[str, Mapping[str, Any]], str | None],
    counters: Mapping[str, Mapping[str, int]] | None = None,
    top_keys: Sequence[str] = (),
    values: Sequence[str] | None = None,
) -> dict[str, Any]:
    """``base`` (an event context) plus the aggregate names.

    ``top(key, n)`` answers from ``counters`` when the digest counted ``key`` exactly (the
    rule's ``top_keys``), else from the sample ``events``; it returns ``(value, count)`` pairs,
    most frequent first.
    """
    by_time = sorted(events, key=lambda e: e["timestamp"]) if events else [dict(base)]

    def top(key: str, n: int = 5) -> list[tuple[str, int]]:
        counts: Counter[str] = Counter()
        if counters is not None and key in counters:
            counts.update(counters[key])
        else:
            for event in events:
                value = value_of(key, event)
                if value is not None:
                    counts[value] += 1
        limit = max(0, min(int(n), 1000))
        ranked = sorted(counts.items(), key=lambda item: (-item[1], _sort_key(item[0])))
        return ranked[:limit]

    return {
        **base,
        "count": count,
        "events": list(events),
        "first": by_time[0],
        "last": by_time[-1],
        "window": dict(window) if window is not None else None,
        "group": group,
        "top": top,
        "top_keys": tuple(top_keys),
        "distinct_count": len(values) if values is not None else None,
        "values": list(values) if values is not None else [],
    }


def guess_timestamp(
    message: str, flow_format: vpc_flow.FlowLogFormat = vpc_flow.DEFAULT
) -> int | None:
    """When a sample line happened, from its own content (for ``logsieve alerts test``):
    a flow record's ``start``, CloudTrail's ``eventTime``, Client VPN's last update time, or a
    JSON ``timestamp``/``time``; None when the line does not say."""
    context = event_context(StoredEvent("", 0, message, "", ""), flow_format)
    candidates: list[Any] = []
    if context["flow"] is not None:
        candidates.append(context["flow"].get("start"))
    if context["trail"] is not None:
        candidates.append(context["trail"].get("eventTime"))
    if context["vpn"] is not None:
        vpn = context["vpn"]
        candidates += [vpn.get("connection-last-update-time"), vpn.get("connection-start-time")]
    event = context["event"]
    candidates += [event.get("timestamp"), event.get("time"), event.get("@timestamp")]
    for candidate in candidates:
        moment = to_datetime(candidate)
        if moment is not None:
            return int(moment.timestamp() * 1000)
    return None
