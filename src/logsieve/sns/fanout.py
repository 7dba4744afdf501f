"""Fan-out: which subscriptions get a published message, and its durable record.

Publish writes ONE record (the message and its topic's identity) and answers; a background
step (``delivery.SnsDeliveries.send_fanout``) expands it into one delivery per subscription.
The record names the topic by ARN *and* by its store ``seq``, which is never reused: a topic
deleted and re-created under the same name before the expansion is another topic, and the
message never reaches the new one's subscribers.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Sequence
from typing import Any

import orjson

from logsieve.errors import ServiceError
from logsieve.storage.topics import SubscriptionRow, TopicRow, TopicStore

from .filter import FilterPolicy, compile_policy
from .messages import Message

__all__ = ["Recipients", "decode_record", "encode_record"]


_BINARY = "BinaryValue"
_BINARY_B64 = "BinaryValue.base64"  # how a Binary attribute's bytes travel in the JSON record


def encode_record(topic: TopicRow, message: Message) -> bytes:
    """The fan-out record of ``message`` published to ``topic``."""
    fields = dataclasses.asdict(message)
    fields["attributes"] = {name: _to_json(v) for name, v in message.attributes.items()}
    return orjson.dumps({"topic": topic.arn, "topic_seq": topic.seq, "message": fields})


def decode_record(data: bytes) -> tuple[str, int, Message]:
    """(topic ARN, topic seq, message) of a record; ValueError/KeyError/TypeError if bad."""
    record: dict[str, Any] = orjson.loads(data)
    fields = dict(record["message"])
    fields["attributes"] = {
        name: _from_json(value) for name, value in fields.get("attributes", {}).items()
    }
    return str(record["topic"]), int(record["topic_seq"]), Message(**fields)


def _to_json(value: dict[str, Any]) -> dict[str, Any]:
    copy = dict(value)
    blob = copy.get(_BINARY)
    if isinstance(blob, bytes | bytearray):
        del copy[_BINARY]
        copy[_BINARY_B64] = base64.b64encode(blob).decode("ascii")
    return copy


def _from_json(value: dict[str, Any]) -> dict[str, Any]:
    copy = dict(value)
    if _BINARY_B64 in copy:
        copy[_BINARY] = base64.b64decode(copy.pop(_BINARY_B64))
    return copy


class Recipients:
    """Confirmed subscriptions whose filter policy accepts a message (policies compiled once)."""

    def __init__(self, store: TopicStore) -> None:
        self.store = store
        self._filters: dict[tuple[str, str, str], FilterPolicy | None] = {}

    def of(self, topic_arn: str, message: Message) -> Sequence[SubscriptionRow]:
        return [
            sub
            for sub in self.store.topic_subscriptions(topic_arn)
            if not sub.pending and self.accepts(sub, message)
        ]

    def accepts(self, sub: SubscriptionRow, message: Message) -> bool:
        text = sub.attributes.get("FilterPolicy", "")
        if not text:
            return True
        scope = sub.attributes.get("FilterPolicyScope", "MessageAttributes")
        key = (sub.arn, text, scope)
        if key not in self._filters:
            try:
                self._filters[key] = compile_policy(text, scope, "")
            except ServiceError:  # stored before validation existed: deliver, as unfiltered
                self._filters[key] = None
        policy = self._filters[key]
        return policy is None or policy.matches(message.attributes, message.body)
