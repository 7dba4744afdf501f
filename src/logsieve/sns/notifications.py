"""What subscribers receive, shaped exactly as AWS shapes it (aws-compat.md 6.2).

Pure formatting: the signed JSON document of an HTTP/HTTPS or email-json delivery (with AWS's
``"Key" : value`` layout), its headers, the Lambda ``Records`` event, and the texts of the
notification and confirmation emails. ``notify/sns_delivery.py`` sends them.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Mapping
from typing import Any

from .messages import Message, notification_attributes
from .signing import Signer

DEFAULT_EMAIL_SUBJECT = "AWS Notification Message"
CONFIRMATION_SUBJECT = "AWS Notification - Subscription Confirmation"
USER_AGENT = "Amazon Simple Notification Service Agent"
CONTENT_TYPE = "text/plain; charset=UTF-8"


def timestamp(ms: int) -> str:
    """ISO 8601 UTC with milliseconds and ``Z``: ``2025-03-10T02:16:30.123Z``."""
    moment = _dt.datetime.fromtimestamp(ms / 1000, _dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def subscribe_url(public_url: str, topic_arn: str, token: str) -> str:
    return f"{public_url}/?Action=ConfirmSubscription&TopicArn={topic_arn}&Token={token}"


def unsubscribe_url(public_url: str, subscription_arn: str) -> str:
    return f"{public_url}/?Action=Unsubscribe&SubscriptionArn={subscription_arn}"


def notification(
    message: Message,
    subscription_arn: str,
    protocol: str,
    signer: Signer,
    public_url: str,
    signature_version: str = "1",
) -> dict[str, Any]:
    """The fields of a ``Notification``, in AWS's order, signed. ``Subject`` is left out when
    none was published, ``MessageAttributes`` when there were none."""
    fields: dict[str, Any] = {
        "Type": "Notification",
        "MessageId": message.message_id,
        "TopicArn": message.topic_arn,
    }
    if message.subject is not None:
        fields["Subject"] = message.subject
    fields["Message"] = message.for_protocol(protocol)
    fields["Timestamp"] = timestamp(message.timestamp_ms)
    fields["SignatureVersion"] = signature_version
    fields["Signature"] = signer.sign(fields, signature_version)
    fields["SigningCertURL"] = f"{public_url}/{signer.certificate_name}"
    fields["UnsubscribeURL"] = unsubscribe_url(public_url, subscription_arn)
    if message.attributes:
        fields["MessageAttributes"] = notification_attributes(message.attributes)
    return fields


def confirmation(
    kind: str,
    message_id: str,
    topic_arn: str,
    token: str,
    text: str,
    timestamp_ms: int,
    signer: Signer,
    public_url: str,
    signature_version: str = "1",
) -> dict[str, Any]:
    """A ``SubscriptionConfirmation`` or ``UnsubscribeConfirmation`` document, signed."""
    fields: dict[str, Any] = {
        "Type": kind,
        "MessageId": message_id,
        "Token": token,
        "TopicArn": topic_arn,
        "Message": text,
        "SubscribeURL": subscribe_url(public_url, topic_arn, token),
        "Timestamp": timestamp(timestamp_ms),
        "SignatureVersion": signature_version,
    }
    fields["Signature"] = signer.sign(fields, signature_version)
    fields["SigningCertURL"] = f"{public_url}/{signer.certificate_name}"
    return fields


def subscribe_text(topic_arn: str) -> str:
    return (
        f"You have chosen to subscribe to the topic {topic_arn}.\n"
        "To confirm the subscription, visit the SubscribeURL included in this message."
    )


def unsubscribe_text(subscription_arn: str) -> str:
    return (
        f"You have chosen to deactivate subscription {subscription_arn}.\n"
        "To cancel this operation and restore the subscription, visit the SubscribeURL "
        "included in this message."
    )


def json_document(fields: Mapping[str, Any]) -> str:
    """AWS's layout: one ``"Key" : value`` per line, nested values compact."""
    lines = [
        f"  {json.dumps(key)} : {json.dumps(value, ensure_ascii=False, separators=(',', ':'))}"
        for key, value in fields.items()
        if key != "MessageAttributes"
    ]
    attributes = fields.get("MessageAttributes")
    if attributes:
        inner = ",\n".join(
            f"    {json.dumps(name, ensure_ascii=False)} : "
            f"{json.dumps(value, ensure_ascii=False, separators=(',', ':'))}"
            for name, value in attributes.items()
        )
        lines.append(f'  "MessageAttributes" : {{\n{inner}\n  }}')
    return "{\n" + ",\n".join(lines) + "\n}"


def http_headers(fields: Mapping[str, Any], subscription_arn: str | None) -> dict[str, str]:
    """The ``x-amz-sns-*`` headers of an HTTP/HTTPS delivery (no subscription ARN on a
    SubscriptionConfirmation, as AWS sends it)."""
    headers = {
        "x-amz-sns-message-type": str(fields["Type"]),
        "x-amz-sns-message-id": str(fields["MessageId"]),
        "x-amz-sns-topic-arn": str(fields["TopicArn"]),
        "Content-Type": CONTENT_TYPE,
        "User-Agent": USER_AGENT,
    }
    if subscription_arn is not None and fields["Type"] != "SubscriptionConfirmation":
        headers["x-amz-sns-subscription-arn"] = subscription_arn
    return headers


def lambda_event(fields: Mapping[str, Any], subscription_arn: str) -> dict[str, Any]:
    """The event a Lambda subscription receives (note ``SigningCertUrl``/``UnsubscribeUrl``
    spelled differently from the HTTP document, and ``Subject`` null when absent)."""
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription_arn,
                "Sns": {
                    "Type": fields["Type"],
                    "MessageId": fields["MessageId"],
                    "TopicArn": fields["TopicArn"],
                    "Subject": fields.get("Subject"),
                    "Message": fields["Message"],
                    "Timestamp": fields["Timestamp"],
                    "SignatureVersion": fields["SignatureVersion"],
                    "Signature": fields["Signature"],
                    "SigningCertUrl": fields["SigningCertURL"],
                    "UnsubscribeUrl": fields["UnsubscribeURL"],
                    "MessageAttributes": fields.get("MessageAttributes", {}),
                },
            }
        ]
    }


def email_text(message: str, unsubscribe_link: str) -> str:
    """An ``email`` delivery's body: the message, then AWS's unsubscribe footer."""
    return (
        f"{message}\n\n--\nIf you wish to stop receiving notifications from this topic, please "
        f"click or visit the link below to unsubscribe:\n{unsubscribe_link}\n\n"
        "Please do not reply directly to this email. If you have any questions or comments "
        "regarding this email, please contact the sender of this notification.\n"
    )


def confirmation_email(topic_arn: str, link: str) -> tuple[str, str]:
    """(text, html) of the subscription confirmation email, worded as AWS's."""
    text = (
        f"You have chosen to subscribe to the topic: \n{topic_arn}\n\n"
        "To confirm this subscription, click or visit the link below (If this was in error no "
        f"action is necessary): \n{link}\n\n"
        "Please do not reply directly to this email. If you wish to remove yourself from "
        "receiving all future SNS subscription confirmation requests please contact the "
        "operator of this server.\n"
    )
    html = (
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
        f"<p>You have chosen to subscribe to the topic: <br><b>{_html(topic_arn)}</b></p>"
        "<p>To confirm this subscription, click or visit the link below (If this was in error "
        f'no action is necessary): <br><a href="{_html(link)}">Confirm subscription</a></p>'
        "<p><small>Please do not reply directly to this email.</small></p></body></html>"
    )
    return text, html


def _html(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )
