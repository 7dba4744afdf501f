"""The SNS service: topics, subscriptions, confirmation, and Publish with AWS's rules.

Plain values in, plain values out, ``ServiceError`` for AWS errors (raised with the model's
exception names; the Query layer sends their codes, ``InvalidParameter``, ``NotFound``...): no
HTTP here. Deliveries leave through a ``Deliverer`` (``notify/sns_delivery.py`` puts them in the
outbox), so a 200 from Publish means the message's fan-out record is on disk (the deliveries
to each subscriber are written after, from it), and this module never waits for a subscriber.

Where AWS is ambiguous the choice is written down next to the code; error wording comes from
AWS responses recorded by LocalStack and moto, cited in aws-compat.md section 6.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from logsieve.errors import Operation, ServiceError
from logsieve.storage.topics import SubscriptionRow, TopicRow, TopicStore

from . import arns, messages, rules
from .arns import INVALID_PARAMETER, NOT_FOUND, invalid
from .messages import Message

PAGE_SIZE = 100  # ListTopics / ListSubscriptions(ByTopic) page size on AWS
MAX_TAGS = 50
PENDING_ARN = "pending confirmation"  # Subscribe's answer for an unconfirmed subscription
LISTED_PENDING_ARN = "PendingConfirmation"  # how List* show one

_DEFAULT_DELIVERY_POLICY = {
    "http": {
        "defaultHealthyRetryPolicy": {
            "minDelayTarget": 20,
            "maxDelayTarget": 20,
            "numRetries": 3,
            "numMaxDelayRetries": 0,
            "numNoDelayRetries": 0,
            "numMinDelayRetries": 0,
            "backoffFunction": "linear",
        },
        "disableSubscriptionOverrides": False,
        "defaultRequestPolicy": {"headerContentType": "text/plain; charset=UTF-8"},
    }
}
_POLICY_ACTIONS = [
    "SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission",
    "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic",
    "SNS:Publish",
]  # fmt: skip


class Deliverer(Protocol):
    """Where the service hands deliveries (durably) before answering."""

    def confirm(self, topic: TopicRow, subscription: SubscriptionRow) -> None:
        """Send the endpoint its confirmation request (email or SubscriptionConfirmation)."""

    def publish(self, topic: TopicRow, messages: list[Message]) -> None:
        """Record ``messages`` for fan-out to the topic's subscriptions, durably, at once:
        the per-subscription deliveries are made afterwards (Publish must not wait for
        thousands of them)."""

    def unsubscribed(self, topic: TopicRow | None, subscription: SubscriptionRow) -> None:
        """An HTTP/HTTPS endpoint was unsubscribed through the link: tell it."""


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _encode_token(seq: int) -> str:
    return base64.urlsafe_b64encode(f"seq:{seq}".encode()).decode("ascii")


def _decode_token(token: str | None) -> int:
    """The position a NextToken resumes after; only a token ``_encode_token`` could have
    written is accepted (no second spelling, no garbage around it, a 64-bit position)."""
    if not token:
        return 0
    try:
        text = base64.b64decode(token.encode("ascii"), b"-_", validate=True).decode("ascii")
        kind, _, seq = text.partition(":")
        if kind != "seq" or not seq.isdigit() or _encode_token(int(seq)) != token:
            raise ValueError(text)
        if int(seq) >= 1 << 63:  # beyond SQLite's integers
            raise ValueError(text)
        return int(seq)
    except (ValueError, UnicodeError, binascii.Error):
        raise invalid("NextToken") from None


class SnsService:
    """Topics and subscriptions in a ``TopicStore``; deliveries through a ``Deliverer``."""

    def __init__(
        self,
        store: TopicStore,
        region: str,
        account_id: str,
        deliverer: Deliverer | None = None,
        auto_confirm: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.region = region
        self.account_id = account_id
        self.deliverer = deliverer
        self.auto_confirm = auto_confirm
        self._clock = clock
        self._sequence_lock = threading.Lock()
        self._last_sequence = 0
        self.operations: dict[str, Operation] = {
            "CreateTopic": self.create_topic,
            "DeleteTopic": self.delete_topic,
            "ListTopics": self.list_topics,
            "GetTopicAttributes": self.get_topic_attributes,
            "SetTopicAttributes": self.set_topic_attributes,
            "Subscribe": self.subscribe,
            "ConfirmSubscription": self.confirm_subscription,
            "Unsubscribe": self.unsubscribe,
            "ListSubscriptions": self.list_subscriptions,
            "ListSubscriptionsByTopic": self.list_subscriptions_by_topic,
            "GetSubscriptionAttributes": self.get_subscription_attributes,
            "SetSubscriptionAttributes": self.set_subscription_attributes,
            "Publish": self.publish,
            "PublishBatch": self.publish_batch,
            "ListTagsForResource": self.list_tags_for_resource,
            "TagResource": self.tag_resource,
            "UntagResource": self.untag_resource,
        }
        # Served without a signature when none is sent: the links in emails and notifications.
        self.anonymous: dict[str, Operation] = {
            "ConfirmSubscription": self.confirm_subscription_link,
            "Unsubscribe": self.unsubscribe_link,
        }

    # -- Python API (alert rules, channels) ------------------------------------------------

    def publish_internal(
        self,
        topic_arn: str,
        message: str,
        subject: str | None = None,
        attributes: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> str:
        """Publish as the API would (same rules, same deliveries); returns the MessageId.

        Raises ``ServiceError`` (``NotFoundException`` for an unknown topic,
        ``InvalidParameterException`` for a bad subject or message) like the API does.
        """
        params: dict[str, Any] = {"TopicArn": topic_arn, "Message": message}
        if subject is not None:
            params["Subject"] = subject
        if attributes:
            params["MessageAttributes"] = {name: dict(v) for name, v in attributes.items()}
        return str(self.publish(params)["MessageId"])

    # -- lookups -------------------------------------------------------------------------

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    def _topic(self, arn: str | None, member: str = "TopicArn") -> TopicRow:
        name = arns.parse_topic_arn(arn, member)
        if name.region != self.region:
            raise invalid(member)
        topic = self.store.get_topic(name.arn)
        if topic is None:
            raise ServiceError(NOT_FOUND, "Topic does not exist", 404)
        return topic

    def _subscription(self, arn: str | None) -> SubscriptionRow:
        found = self.store.get_subscription(arn or "")
        if found is None:
            raise ServiceError(NOT_FOUND, "Subscription does not exist", 404)
        return found

    @staticmethod
    def _is_fifo(topic: TopicRow) -> bool:
        return topic.attributes.get("FifoTopic", "").lower() == "true"

    # -- topics --------------------------------------------------------------------------

    def create_topic(self, params: dict[str, Any]) -> dict[str, Any]:
        name = params["Name"]
        attributes = dict(params.get("Attributes") or {})
        tags = {tag["Key"]: tag["Value"] for tag in params.get("Tags") or ()}
        fifo = attributes.get("FifoTopic", "").lower() == "true"
        if fifo:
            if arns.FIFO_TOPIC_NAME.fullmatch(name) is None:
                raise invalid("Topic Name")
            attributes["FifoTopic"] = "true"
            attributes.setdefault("ContentBasedDeduplication", "false")
        else:
            if arns.TOPIC_NAME.fullmatch(name) is None:
                raise invalid("Topic Name")
            attributes.pop("FifoTopic", None)  # AWS does not keep an explicit "false"
        for key, value in attributes.items():
            if key not in rules.TOPIC_ATTRIBUTES and key not in rules.CREATE_ONLY:
                raise invalid("Attributes Reason: Invalid attribute name: " + key)
            rules.check_topic_attribute(key, value, "Attributes Reason: ")
        if len(tags) > MAX_TAGS:
            raise ServiceError(
                "TagLimitExceededException",
                "Could not complete request: tag quota of per resource exceeded",
            )
        arn = arns.topic_arn(self.region, self.account_id, name)
        row = TopicRow(arn, name, attributes, tags, self._now_ms())
        stored, created = self.store.create_topic(row)
        if not created:  # CreateTopic is idempotent by name, unless it would change the topic
            if any(stored.attributes.get(k) != v for k, v in attributes.items()):
                raise invalid("Attributes Reason: Topic already exists with different attributes")
            if params.get("Tags") is not None and any(
                stored.tags.get(k) != v for k, v in tags.items()
            ):
                raise invalid("Tags Reason: Topic already exists with different tags")
        return {"TopicArn": stored.arn}

    def delete_topic(self, params: dict[str, Any]) -> None:
        name = arns.parse_topic_arn(params["TopicArn"])
        if name.region != self.region:
            raise invalid("TopicArn")
        self.store.delete_topic(name.arn)  # deleting a missing topic succeeds, as on AWS
        return None

    def list_topics(self, params: dict[str, Any]) -> dict[str, Any]:
        after = _decode_token(params.get("NextToken"))
        rows = self.store.list_topics(after, PAGE_SIZE + 1)
        page = rows[:PAGE_SIZE]
        result: dict[str, Any] = {"Topics": [{"TopicArn": row.arn} for row in page]}
        if len(rows) > PAGE_SIZE:
            result["NextToken"] = _encode_token(page[-1].seq)
        return result

    def get_topic_attributes(self, params: dict[str, Any]) -> dict[str, Any]:
        topic = self._topic(params["TopicArn"])
        return {"Attributes": self.topic_attributes(topic)}

    def topic_attributes(self, topic: TopicRow) -> dict[str, str]:
        """Everything GetTopicAttributes shows: computed values, then what was set."""
        confirmed = pending = 0
        for sub in self.store.topic_subscriptions(topic.arn):
            if sub.pending:
                pending += 1
            else:
                confirmed += 1
        attributes = {
            "Policy": _compact(self._default_policy(topic.arn)),
            "Owner": self.account_id,
            "SubscriptionsPending": str(pending),
            "TopicArn": topic.arn,
            "EffectiveDeliveryPolicy": _compact(self._effective_delivery_policy(topic)),
            "SubscriptionsConfirmed": str(confirmed),
            "DisplayName": "",
            "SubscriptionsDeleted": str(topic.subscriptions_deleted),
        }
        attributes.update(topic.attributes)
        return attributes

    def _default_policy(self, topic_arn: str) -> dict[str, Any]:
        return {
            "Version": "2008-10-17",
            "Id": "__default_policy_ID",
            "Statement": [
                {
                    "Sid": "__default_statement_ID",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": _POLICY_ACTIONS,
                    "Resource": topic_arn,
                    "Condition": {"StringEquals": {"AWS:SourceOwner": self.account_id}},
                }
            ],
        }

    @staticmethod
    def _effective_delivery_policy(topic: TopicRow) -> dict[str, Any]:
        policy = json.loads(json.dumps(_DEFAULT_DELIVERY_POLICY))
        custom = topic.attributes.get("DeliveryPolicy")
        if custom:
            policy.update(json.loads(custom))
        return policy

    def set_topic_attributes(self, params: dict[str, Any]) -> None:
        topic = self._topic(params["TopicArn"])
        name, value = params["AttributeName"], params.get("AttributeValue") or ""
        if name not in rules.TOPIC_ATTRIBUTES:
            raise invalid("AttributeName")
        rules.check_topic_attribute(name, value, "")
        attributes = dict(topic.attributes)
        attributes[name] = value
        self.store.update_topic(topic.arn, attributes=attributes)
        return None

    # -- tags ----------------------------------------------------------------------------

    def _tagged(self, arn: str) -> TopicRow:
        topic = self.store.get_topic(arn)
        if topic is None:
            raise ServiceError("ResourceNotFoundException", "Resource does not exist", 404)
        return topic

    def list_tags_for_resource(self, params: dict[str, Any]) -> dict[str, Any]:
        topic = self._tagged(params["ResourceArn"])
        return {"Tags": [{"Key": k, "Value": v} for k, v in topic.tags.items()]}

    def tag_resource(self, params: dict[str, Any]) -> dict[str, Any]:
        topic = self._tagged(params["ResourceArn"])
        keys = [tag["Key"] for tag in params["Tags"]]
        if len(set(keys)) != len(keys):
            raise invalid("Duplicated keys are not allowed.")
        tags = dict(topic.tags)
        tags.update({tag["Key"]: tag["Value"] for tag in params["Tags"]})
        if len(tags) > MAX_TAGS:
            raise ServiceError(
                "TagLimitExceededException",
                "Could not complete request: tag quota of per resource exceeded",
            )
        self.store.update_topic(topic.arn, tags=tags)
        return {}

    def untag_resource(self, params: dict[str, Any]) -> dict[str, Any]:
        topic = self._tagged(params["ResourceArn"])
        remove = set(params["TagKeys"])
        self.store.update_topic(
            topic.arn, tags={k: v for k, v in topic.tags.items() if k not in remove}
        )
        return {}

    # -- subscriptions -------------------------------------------------------------------

    def subscribe(self, params: dict[str, Any]) -> dict[str, Any]:
        topic = self._topic(params["TopicArn"])
        protocol = params["Protocol"]
        endpoint = params.get("Endpoint") or ""
        rules.check_endpoint(protocol, endpoint)
        if self._is_fifo(topic) and protocol != "sqs":
            raise invalid(f"Invalid protocol type: {protocol}")
        attributes = dict(params.get("Attributes") or {})
        for name, value in list(attributes.items()):
            attributes[name] = rules.check_subscription_attribute(
                name, value, attributes, "Attributes Reason: "
            )
        confirmed_now = protocol not in rules.CONFIRMED_BY_OWNER or self.auto_confirm
        row = SubscriptionRow(
            arn=arns.subscription_arn(topic.arn),
            topic_arn=topic.arn,
            protocol=protocol,
            endpoint=endpoint,
            owner=self.account_id,
            attributes=attributes,
            pending=not confirmed_now,
            token=secrets.token_hex(128),
            authenticated=confirmed_now,
            created_ms=self._now_ms(),
        )
        try:
            stored, created = self.store.add_subscription(row)
        except ValueError:  # the topic was deleted in between
            raise ServiceError(NOT_FOUND, "Topic does not exist", 404) from None
        if not created and any(stored.attributes.get(k) != v for k, v in attributes.items()):
            raise invalid(
                "Attributes Reason: Subscription already exists with different attributes"
            )
        if stored.pending and self.deliverer is not None:
            # A repeated Subscribe of a pending endpoint sends the confirmation again, as AWS.
            self.deliverer.confirm(topic, stored)
        if stored.pending and not params.get("ReturnSubscriptionArn"):
            return {"SubscriptionArn": PENDING_ARN}
        return {"SubscriptionArn": stored.arn}

    def _confirm(self, params: dict[str, Any], authenticated: bool) -> dict[str, Any]:
        topic = self._topic(params["TopicArn"])
        sub = self.store.subscription_by_token(params["Token"])
        if sub is None or sub.topic_arn != topic.arn:
            raise invalid("Token")
        wants_auth = str(params.get("AuthenticateOnUnsubscribe", "")).lower() == "true"
        confirmed = self.store.confirm_subscription(sub.arn, authenticated and wants_auth)
        if confirmed is None:  # unsubscribed in between
            raise invalid("Token")
        return {"SubscriptionArn": confirmed.arn}

    def confirm_subscription(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._confirm(params, authenticated=True)

    def confirm_subscription_link(self, params: dict[str, Any]) -> dict[str, Any]:
        """ConfirmSubscription without a signature (the link in the confirmation email)."""
        return self._confirm(params, authenticated=False)

    def _unsubscribe(self, params: dict[str, Any], authenticated: bool) -> None:
        arn = params["SubscriptionArn"]
        parts = arn.split(":")
        if len(parts) < 6 or parts[0] != "arn":
            raise invalid(
                f"SubscriptionArn Reason: An ARN must have at least 6 elements, not {len(parts)}"
            )
        if arns.subscription_topic(arn) is None:
            raise invalid("SubscriptionId")
        sub = self.store.get_subscription(arn)
        if sub is None:
            return None  # Unsubscribe is idempotent
        if not authenticated and sub.authenticated and sub.protocol in rules.CONFIRMED_BY_OWNER:
            raise ServiceError(
                "AuthorizationErrorException",
                "Unsubscribing this subscription requires authentication: it was confirmed "
                "with AuthenticateOnUnsubscribe",
                403,
            )
        deleted = self.store.delete_subscription(arn)
        if (
            deleted is not None
            and not authenticated
            and deleted.protocol in ("http", "https")
            and self.deliverer is not None
        ):
            self.deliverer.unsubscribed(self.store.get_topic(deleted.topic_arn), deleted)
        return None

    def unsubscribe(self, params: dict[str, Any]) -> None:
        return self._unsubscribe(params, authenticated=True)

    def unsubscribe_link(self, params: dict[str, Any]) -> None:
        """Unsubscribe without a signature (the UnsubscribeURL of notifications and emails)."""
        return self._unsubscribe(params, authenticated=False)

    @staticmethod
    def _listed(sub: SubscriptionRow) -> dict[str, str]:
        return {
            "SubscriptionArn": LISTED_PENDING_ARN if sub.pending else sub.arn,
            "Owner": sub.owner,
            "Protocol": sub.protocol,
            "Endpoint": sub.endpoint,
            "TopicArn": sub.topic_arn,
        }

    def _list_subscriptions(self, topic_arn: str | None, token: str | None) -> dict[str, Any]:
        after = _decode_token(token)
        rows = self.store.list_subscriptions(topic_arn, after, PAGE_SIZE + 1)
        page = rows[:PAGE_SIZE]
        result: dict[str, Any] = {"Subscriptions": [self._listed(sub) for sub in page]}
        if len(rows) > PAGE_SIZE:
            result["NextToken"] = _encode_token(page[-1].seq)
        return result

    def list_subscriptions(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._list_subscriptions(None, params.get("NextToken"))

    def list_subscriptions_by_topic(self, params: dict[str, Any]) -> dict[str, Any]:
        topic = self._topic(params["TopicArn"])
        return self._list_subscriptions(topic.arn, params.get("NextToken"))

    def get_subscription_attributes(self, params: dict[str, Any]) -> dict[str, Any]:
        sub = self._subscription(params["SubscriptionArn"])
        attributes = {
            "ConfirmationWasAuthenticated": "true" if sub.authenticated else "false",
            "PendingConfirmation": "true" if sub.pending else "false",
            "Owner": sub.owner,
            "RawMessageDelivery": "false",
            "TopicArn": sub.topic_arn,
            "Endpoint": sub.endpoint,
            "Protocol": sub.protocol,
            "SubscriptionArn": sub.arn,
        }
        if sub.protocol in ("http", "https"):
            topic = self.store.get_topic(sub.topic_arn)
            if topic is not None:
                attributes["EffectiveDeliveryPolicy"] = _compact(
                    self._effective_delivery_policy(topic)
                )
        attributes.update(sub.attributes)
        if sub.attributes.get("FilterPolicy"):
            attributes.setdefault("FilterPolicyScope", "MessageAttributes")
        else:
            attributes.pop("FilterPolicy", None)
            attributes.pop("FilterPolicyScope", None)
        return {"Attributes": attributes}

    def set_subscription_attributes(self, params: dict[str, Any]) -> None:
        sub = self._subscription(params["SubscriptionArn"])
        name, value = params["AttributeName"], params.get("AttributeValue") or ""
        attributes = dict(sub.attributes)
        attributes[name] = value
        attributes[name] = rules.check_subscription_attribute(name, value, attributes, "")
        self.store.set_subscription_attributes(sub.arn, attributes)
        return None

    # -- publish -------------------------------------------------------------------------

    @staticmethod
    def _check_message(params: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """The checks that need no topic, in AWS's order: (text, attributes)."""
        subject = params.get("Subject")
        if subject == "":
            raise invalid("Subject")
        text = messages.check_message(params.get("Message"))
        messages.check_subject(subject)
        attributes = messages.check_attributes(params.get("MessageAttributes"))
        messages.check_size(text, attributes)
        return text, attributes

    def _prepare(
        self, params: Mapping[str, Any], topic: TopicRow, message_id: str | None = None
    ) -> Message:
        """Validate one message (Publish or a PublishBatch entry) for ``topic``."""
        text, attributes = self._check_message(params)
        if self._is_fifo(topic):
            if not params.get("MessageGroupId"):
                raise invalid("The MessageGroupId parameter is required for FIFO topics")
            content_dedup = topic.attributes.get("ContentBasedDeduplication") == "true"
            if not content_dedup and not params.get("MessageDeduplicationId"):
                raise invalid(
                    "The topic should either have ContentBasedDeduplication enabled or "
                    "MessageDeduplicationId provided explicitly"
                )
        elif params.get("MessageDeduplicationId"):
            raise invalid(
                "MessageDeduplicationId Reason: The request includes MessageDeduplicationId "
                "parameter that is not valid for this topic type"
            )
        body, per_protocol = messages.parse_structure(text, params.get("MessageStructure"))
        return Message(
            message_id=message_id or str(uuid.uuid4()),
            topic_arn=topic.arn,
            body=body,
            subject=params.get("Subject"),
            attributes=attributes,
            timestamp_ms=self._now_ms(),
            per_protocol=per_protocol,
        )

    def _target(self, params: Mapping[str, Any]) -> TopicRow:
        topic_arn, target_arn = params.get("TopicArn"), params.get("TargetArn")
        if params.get("PhoneNumber"):
            if topic_arn or target_arn:
                raise invalid("Only one of TopicArn, TargetArn or PhoneNumber may be specified")
            raise invalid("PhoneNumber Reason: logsieve does not send SMS messages")
        if topic_arn and target_arn:
            raise invalid("Only one of TopicArn or TargetArn may be specified")
        if not topic_arn and not target_arn:
            raise invalid("TopicArn or TargetArn Reason: no value for required parameter")
        if target_arn and ":endpoint/" in target_arn:
            raise invalid("TargetArn Reason: No endpoint found for the target arn specified")
        return self._topic(topic_arn or target_arn, "TopicArn" if topic_arn else "TargetArn")

    def _sequence_number(self) -> str:
        """FIFO SequenceNumber: increasing, 20 digits, like AWS's."""
        with self._sequence_lock:
            self._last_sequence = max(self._last_sequence + 1, time.time_ns() // 1000)
            return f"{10**19 + self._last_sequence:020d}"[-20:]

    def publish(self, params: dict[str, Any], message_id: str | None = None) -> dict[str, Any]:
        """``message_id`` (internal callers only) makes a repeated publish a no-op: the
        fan-out is keyed by it, so a sender retried after a crash never sends twice."""
        # Message checks come first: AWS reports a bad Subject even for a missing topic.
        self._check_message(params)
        topic = self._target(params)
        message = self._prepare(params, topic, message_id)
        self._fan_out(topic, [message])
        result = {"MessageId": message.message_id}
        if self._is_fifo(topic):
            result["SequenceNumber"] = self._sequence_number()
        return result

    def publish_batch(self, params: dict[str, Any]) -> dict[str, Any]:
        entries: Sequence[dict[str, Any]] = params["PublishBatchRequestEntries"]
        if not entries:
            raise ServiceError(
                "EmptyBatchRequestException", "The batch request doesn't contain any entries."
            )
        if len(entries) > 10:
            raise ServiceError(
                "TooManyEntriesInBatchRequestException",
                "The batch request contains more entries than permissible.",
            )
        topic = self._topic(params["TopicArn"])
        ids = [entry["Id"] for entry in entries]
        if len(set(ids)) != len(ids):
            raise ServiceError(
                "BatchEntryIdsNotDistinctException",
                "Two or more batch entries in the request have the same Id.",
            )
        for entry_id in ids:
            if len(entry_id) > 80:
                raise ServiceError(
                    "InvalidBatchEntryIdException",
                    f"The Id of a batch entry in the batch request is too long: {entry_id}",
                )
            if not entry_id or not all(ch.isascii() and (ch.isalnum() or ch in "-_")
                                       for ch in entry_id):  # fmt: skip
                raise ServiceError(
                    "InvalidBatchEntryIdException",
                    "The Id of a batch entry in the batch request contains an impermissible "
                    f"character: {entry_id}",
                )
        prepared = [self._prepare(entry, topic) for entry in entries]
        total = sum(messages.size(entry["Message"], m.attributes) for entry, m in
                    zip(entries, prepared, strict=True))  # fmt: skip
        if total > messages.MAX_MESSAGE_BYTES:
            raise ServiceError(
                "BatchRequestTooLongException",
                "The length of all the messages put together is more than the limit.",
            )
        self._fan_out(topic, prepared)
        successful = []
        for entry, message in zip(entries, prepared, strict=True):
            done: dict[str, Any] = {"Id": entry["Id"], "MessageId": message.message_id}
            if self._is_fifo(topic):
                done["SequenceNumber"] = self._sequence_number()
            successful.append(done)
        return {"Successful": successful, "Failed": []}

    def _fan_out(self, topic: TopicRow, messages: list[Message]) -> None:
        if self.deliverer is not None:
            self.deliverer.publish(topic, messages)


__all__ = [
    "INVALID_PARAMETER",
    "LISTED_PENDING_ARN",
    "PENDING_ARN",
    "Deliverer",
    "SnsService",
]
