"""Payload shape checks written from each service's documentation (not from our code).

Slack: Block Kit reference (blocks: header, section, context) and incoming webhooks.
Datadog: API reference, Events, "Post an event" (v1).
"""

from __future__ import annotations

from typing import Any

# --- Slack ------------------------------------------------------------------------------------

# Incoming webhooks take these top-level fields (channel/username/icon are ignored by new apps).
SLACK_TOP_LEVEL = {"text", "blocks", "attachments", "thread_ts", "mrkdwn", "unfurl_links"}
SLACK_MAX_BLOCKS = 50  # "up to 50 blocks in each message"


def _text_object(obj: Any, types: tuple[str, ...], limit: int) -> None:
    assert isinstance(obj, dict), obj
    assert obj["type"] in types, obj
    assert isinstance(obj["text"], str) and obj["text"], obj
    assert len(obj["text"]) <= limit, (len(obj["text"]), limit)
    assert set(obj) <= {"type", "text", "emoji", "verbatim"}, obj
    if obj["type"] == "mrkdwn":
        assert "emoji" not in obj  # emoji applies to plain_text only


def check_slack_message(payload: Any) -> None:
    """Raise AssertionError unless ``payload`` is a valid incoming-webhook message."""
    assert isinstance(payload, dict)
    assert set(payload) <= SLACK_TOP_LEVEL, set(payload) - SLACK_TOP_LEVEL
    # With blocks, text is the fallback shown in notifications: always give one.
    assert isinstance(payload.get("text"), str) and payload["text"]
    assert len(payload["text"]) <= 40_000
    blocks = payload.get("blocks", [])
    assert isinstance(blocks, list) and len(blocks) <= SLACK_MAX_BLOCKS
    for block in blocks:
        kind = block["type"]
        if "block_id" in block:
            assert len(block["block_id"]) <= 255
        if kind == "header":
            assert set(block) <= {"type", "text", "block_id"}
            _text_object(block["text"], ("plain_text",), 150)  # header: plain_text, max 150
        elif kind == "section":
            assert set(block) <= {"type", "text", "fields", "accessory", "block_id", "expand"}
            assert "text" in block or "fields" in block
            if "text" in block:
                _text_object(block["text"], ("plain_text", "mrkdwn"), 3000)  # max 3000
            for item in block.get("fields", []):
                _text_object(item, ("plain_text", "mrkdwn"), 2000)
            assert len(block.get("fields", [])) <= 10
        elif kind == "context":
            assert set(block) <= {"type", "elements", "block_id"}
            elements = block["elements"]
            assert 1 <= len(elements) <= 10  # "Maximum number of items is 10"
            for element in elements:
                if element["type"] != "image":
                    _text_object(element, ("plain_text", "mrkdwn"), 3000)
        elif kind == "divider":
            assert set(block) <= {"type", "block_id"}
        else:
            raise AssertionError(f"unexpected block type {kind}")


# --- Datadog ----------------------------------------------------------------------------------

DATADOG_FIELDS = {
    "aggregation_key",
    "alert_type",
    "date_happened",
    "device_name",
    "host",
    "priority",
    "related_event_id",
    "source_type_name",
    "tags",
    "text",
    "title",
}
DATADOG_ALERT_TYPES = {
    "error",
    "warning",
    "info",
    "success",
    "user_update",
    "recommendation",
    "snapshot",
}


def check_datadog_event(event: Any, now: float) -> None:
    """Raise AssertionError unless ``event`` is a valid v1 EventCreateRequest body."""
    assert isinstance(event, dict)
    assert set(event) <= DATADOG_FIELDS, set(event) - DATADOG_FIELDS
    assert isinstance(event["title"], str) and event["title"]  # required
    assert isinstance(event["text"], str)  # required
    assert len(event["text"]) <= 4000  # "Limited to 4000 characters"
    if event["text"].startswith("%%%"):
        # Markdown: "begin the text block with %%% \n and end it with \n %%%".
        assert event["text"].startswith("%%% \n") and event["text"].endswith("\n %%%")
    if "aggregation_key" in event:
        assert isinstance(event["aggregation_key"], str)
        assert len(event["aggregation_key"]) <= 100  # "Limited to 100 characters"
    if "alert_type" in event:
        assert event["alert_type"] in DATADOG_ALERT_TYPES
    if "date_happened" in event:
        # "POSIX timestamp... sent as an integer (no quotes). Limited to events no older
        # than 18 hours."
        assert isinstance(event["date_happened"], int)
        assert event["date_happened"] >= now - 18 * 3600
    if "priority" in event:
        assert event["priority"] in ("normal", "low")
    if "tags" in event:
        assert isinstance(event["tags"], list)
        assert all(isinstance(tag, str) for tag in event["tags"])
