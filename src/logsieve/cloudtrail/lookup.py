"""LookupEvents: the last 90 days of management events, newest first, one attribute at most."""

from __future__ import annotations

from typing import Any

from logsieve import tokens
from logsieve.errors import ServiceError
from logsieve.storage.trails import LOOKUP_KEYS, TrailStore

HISTORY_MS = 90 * 24 * 3_600_000
DEFAULT_RESULTS = 50


def _attribute(params: dict[str, Any]) -> tuple[str, str] | None:
    attributes = params.get("LookupAttributes") or []
    if len(attributes) > 1:
        raise ServiceError(
            "InvalidLookupAttributesException",
            "You can specify only one lookup attribute per request.",
        )
    if not attributes:
        return None
    key, value = attributes[0]["AttributeKey"], attributes[0]["AttributeValue"]
    if key not in LOOKUP_KEYS:  # the model's enum already refuses others; kept for safety
        raise ServiceError("InvalidLookupAttributesException", f"Invalid attribute key: {key}")
    return key, value


def _position(params: dict[str, Any]) -> tuple[int, int] | None:
    token = params.get("NextToken")
    if token is None:
        return None
    state = tokens.decode(token, {"t": tokens.is_int, "s": tokens.is_int})
    if state is None:
        raise ServiceError("InvalidNextTokenException", "Invalid NextToken.")
    return state["t"], state["s"]


def lookup_events(store: TrailStore, params: dict[str, Any], now_ms: int) -> dict[str, Any]:
    end_ms = int(params["EndTime"] * 1000) if "EndTime" in params else now_ms
    start_ms = int(params["StartTime"] * 1000) if "StartTime" in params else now_ms - HISTORY_MS
    if start_ms > end_ms:
        raise ServiceError(
            "InvalidTimeRangeException",
            "Occurs if the timestamp values are invalid. Either the start time occurs after "
            "the end time or the time range is outside the range of possible values.",
        )
    attribute = _attribute(params)
    if params.get("EventCategory") == "insight":
        return {"Events": []}  # logsieve generates no Insights events
    limit = params.get("MaxResults", DEFAULT_RESULTS)
    rows = store.lookup_events(start_ms, end_ms, attribute, _position(params), limit + 1)
    out: dict[str, Any] = {
        "Events": [
            {
                "EventId": row.event_id,
                "EventName": row.name,
                "ReadOnly": "true" if row.read_only else "false",
                "AccessKeyId": row.access_key_id,
                "EventTime": row.time_ms / 1000,
                "EventSource": row.source,
                "Username": row.username,
                "Resources": [
                    {"ResourceType": kind, "ResourceName": name} for kind, name in row.resources
                ],
                "CloudTrailEvent": row.record,
            }
            for row in rows[:limit]
        ]
    }
    if len(rows) > limit:
        last = rows[limit - 1]
        out["NextToken"] = tokens.encode({"t": last.time_ms, "s": last.seq})
    return out
