"""Notifications as JSON: how they are stored in the outbox and posted to generic webhooks."""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

from .message import Notification

__all__ = ["notification_from_json", "notification_to_dict", "notification_to_json"]

_FIELDS = tuple(f.name for f in fields(Notification))


def notification_to_dict(note: Notification) -> dict[str, Any]:
    """The notification's fields as JSON-ready values (tags as a list)."""
    return {
        "title": note.title,
        "text": note.text,
        "severity": note.severity,
        "source": note.source,
        "timestamp": note.timestamp,
        "html": note.html,
        "tags": list(note.tags),
        "aggregation_key": note.aggregation_key,
        "fields": note.fields,
    }


def notification_to_json(note: Notification) -> bytes:
    """UTF-8 JSON. Field values that JSON cannot hold (datetimes, bytes...) become strings,
    so one odd event field never makes an alert unsendable."""
    return json.dumps(
        notification_to_dict(note), ensure_ascii=False, separators=(",", ":"), default=str
    ).encode("utf-8")


def notification_from_json(data: bytes | str) -> Notification:
    """The inverse of :func:`notification_to_json`; unknown keys are ignored (newer writers).

    Raises ValueError for anything that is not a notification object.
    """
    value = json.loads(data)
    if not isinstance(value, dict) or not isinstance(value.get("title"), str):
        raise ValueError("not a notification: expected a JSON object with a string title")
    known = {key: value[key] for key in _FIELDS if key in value}
    known["tags"] = tuple(known.get("tags") or ())
    known["fields"] = dict(known.get("fields") or {})
    known.setdefault("text", "")
    return Notification(**known)
