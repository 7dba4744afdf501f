"""Getting SNS messages to subscribers, through the durable outbox (``outbox.py``).

It lives in ``notify/`` rather than ``sns/`` because it sends: through the outbox and notify's
SMTP transport, both a layer above the services. The service only knows the ``Deliverer``
protocol.

``SnsDeliveries`` is the service's ``Deliverer``. Publish hands it the message, which it writes
to the outbox as ONE fan-out record (``sns-fanout``, see ``fanout.py``) before the API answers,
so Publish costs the same for one subscriber or thousands. The fan-out sender then renders one
item per subscription (signed JSON, email text, Lambda event), in chunks of one transaction
each, keyed by message id + subscription ARN: an expansion interrupted by a crash runs again
and adds only what is missing, so every subscription gets one delivery. Subscribe's
confirmation requests are enqueued directly. Each item names its destination (endpoint URL,
recipient, function), over which the outbox schedules fairly. The senders registered here,
one kind per protocol family, each with its own retries:

* ``sns-email`` (email, email-json): SMTP through ``notify.smtp`` with the configured server;
* ``sns-http`` (http, https): a POST of the JSON document with the ``x-amz-sns-*`` headers;
  2xx is delivered, 408/429/5xx/network errors are retried, other answers are not;
* ``sns-lambda``: ``LambdaService.invoke`` with the ``Records`` event; a failed invocation is
  retried.

What can never be sent (a malformed item, a header the email library refuses, an invalid URL)
is given up at once, kept with its error for re-driving. Just before sending, a notification
checks that its subscription still exists and is
confirmed (AWS stops delivering to a subscription the moment it is deleted); confirmation
requests only need the subscription to exist.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formataddr, parseaddr
from typing import Any, Protocol

import httpx
import orjson

from logsieve.errors import ConfigError
from logsieve.sns import notifications
from logsieve.sns.fanout import Recipients, decode_record, encode_record
from logsieve.sns.messages import Message
from logsieve.sns.signing import Signer
from logsieve.storage.topics import SubscriptionRow, TopicRow, TopicStore

from .outbox import DeliveryFailed, Entry
from .smtp import SmtpSettings, send_email

__all__ = [
    "EMAIL_KIND", "FANOUT_KIND", "HTTP_KIND", "LAMBDA_KIND", "EmailSettings", "SnsDeliveries",
]  # fmt: skip

log = logging.getLogger(__name__)

EMAIL_KIND = "sns-email"
HTTP_KIND = "sns-http"
LAMBDA_KIND = "sns-lambda"
FANOUT_KIND = "sns-fanout"
EXPAND_CHUNK = 200  # deliveries written per transaction while expanding a fan-out record
DEFAULT_FROM_NAME = "AWS Notifications"  # AWS's sender name when a topic has no DisplayName

# What must still be true when an item is sent: the subscription is confirmed (notifications),
# merely exists (confirmation requests), or nothing (the final UnsubscribeConfirmation).
CONFIRMED, EXISTS, ALWAYS = "confirmed", "exists", "always"


class Queue(Protocol):
    """The part of ``notify.outbox.Outbox`` deliveries use."""

    def enqueue(
        self, kind: str, payload: bytes, key: str | None = None, dest: str = ""
    ) -> bool: ...

    def enqueue_many(self, entries: list[Entry]) -> int: ...

    def register(self, kind: str, send: Callable[[bytes], None], **policy: Any) -> None: ...


class Invoker(Protocol):
    """The part of ``lambdas.LambdaService`` Lambda subscriptions use."""

    def resolve(self, arn: str) -> Any: ...

    def invoke(self, spec: Any, event: bytes) -> Any: ...


@dataclass(frozen=True)
class EmailSettings:
    """The SMTP server (``smtp://...`` URL, None when not configured) and the From address."""

    url: str | None
    sender: str


class SnsDeliveries:
    """Renders SNS deliveries into the outbox and sends them (the service's ``Deliverer``)."""

    def __init__(
        self,
        store: TopicStore,
        outbox: Queue,
        signer: Signer,
        public_url: str,
        email: EmailSettings,
        lambdas: Invoker | None = None,
        http_timeout: float = 15.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.outbox = outbox
        self.signer = signer
        self.public_url = public_url.rstrip("/")
        self.email = email
        self.lambdas = lambdas
        self._smtp: SmtpSettings | None = None
        if email.url:
            try:
                self._smtp = SmtpSettings.from_url(email.url)
            except ValueError as bad:  # one line for the user, not a traceback
                raise ConfigError(f"[smtp] url / LOGSIEVE_SMTP_URL: {bad}") from None
        self._http = httpx.Client(timeout=http_timeout, follow_redirects=False)
        self._http_timeout = http_timeout
        self._clock = clock
        self._recipients = Recipients(store)

    def register(self) -> None:
        """Tell the outbox how each kind is sent (call before ``outbox.run``).

        Email keeps trying for a day (an SMTP server that is down delays mail, never loses
        it). HTTP gives up after ten minutes, a little more patient than AWS's default policy
        (three retries 20 s apart). Each destination (recipient, endpoint, function) gets at
        most a few of a kind's slots and backs off alone, and an attempt that does not answer
        is abandoned after a bounded time, so a dead or hanging destination holds back only
        itself. Given-up items stay in the outbox with their error, for re-driving.
        """
        self.outbox.register(
            FANOUT_KIND, self.send_fanout, retry_base=1.0, retry_max_backoff=60.0,
            concurrency=2, per_destination=1, attempt_timeout=None,
        )  # fmt: skip
        self.outbox.register(
            EMAIL_KIND, self.send_email, retry_base=2.0, retry_max_backoff=300.0,
            concurrency=4, per_destination=1, attempt_timeout=180.0,
        )  # fmt: skip
        self.outbox.register(
            HTTP_KIND, self.send_http, retry_base=5.0, retry_max_backoff=20.0,
            give_up_after=600.0, concurrency=32, per_destination=2,
            attempt_timeout=2 * self._http_timeout + 5,
        )  # fmt: skip
        self.outbox.register(
            LAMBDA_KIND, self.send_lambda, retry_base=1.0, retry_max_backoff=60.0,
            give_up_after=3600.0, concurrency=16, per_destination=4, attempt_timeout=960.0,
        )  # fmt: skip

    def close(self) -> None:
        self._http.close()

    # -- the Deliverer protocol ----------------------------------------------------------

    def confirm(self, topic: TopicRow, subscription: SubscriptionRow) -> None:
        message_id = str(uuid.uuid4())
        now_ms = int(self._clock() * 1000)
        subject = notifications.CONFIRMATION_SUBJECT
        if subscription.protocol == "email":
            link = notifications.subscribe_url(self.public_url, topic.arn, subscription.token)
            text, html = notifications.confirmation_email(topic.arn, link)
            self._put(self._email(topic, subscription, message_id, subject, text, html, EXISTS))
            return
        # email-json and http/https get the signed SubscriptionConfirmation document.
        fields = notifications.confirmation(
            "SubscriptionConfirmation", message_id, topic.arn, subscription.token,
            notifications.subscribe_text(topic.arn), now_ms, self.signer, self.public_url,
            _signature_version(topic),
        )  # fmt: skip
        if subscription.protocol == "email-json":
            body = notifications.json_document(fields)
            self._put(self._email(topic, subscription, message_id, subject, body, None, EXISTS))
        elif subscription.protocol in ("http", "https"):
            self._put(self._post(subscription, fields, message_id, EXISTS))

    def publish(self, topic: TopicRow, messages: list[Message]) -> None:
        """Write one fan-out record per message, in one transaction (durable on return)."""
        self.outbox.enqueue_many(
            [
                (FANOUT_KIND, encode_record(topic, message), message.message_id, topic.arn)
                for message in messages
            ]
        )

    def render(
        self, topic: TopicRow, subscription: SubscriptionRow, message: Message
    ) -> Entry | None:
        """The outbox item that delivers ``message`` to one subscription (None: a protocol
        logsieve does not deliver, such as sqs)."""
        protocol = subscription.protocol
        version = _signature_version(topic)
        if protocol == "email":
            link = notifications.unsubscribe_url(self.public_url, subscription.arn)
            text = notifications.email_text(message.for_protocol("email"), link)
            subject = message.subject or notifications.DEFAULT_EMAIL_SUBJECT
            return self._email(
                topic, subscription, message.message_id, subject, text, None, CONFIRMED
            )
        fields = notifications.notification(
            message, subscription.arn, protocol, self.signer, self.public_url, version
        )
        if protocol == "email-json":
            subject = message.subject or notifications.DEFAULT_EMAIL_SUBJECT
            body = notifications.json_document(fields)
            return self._email(
                topic, subscription, message.message_id, subject, body, None, CONFIRMED
            )
        if protocol in ("http", "https"):
            raw = subscription.attributes.get("RawMessageDelivery") == "true"
            return self._post(subscription, fields, message.message_id, CONFIRMED, raw=raw)
        if protocol == "lambda":
            event = notifications.lambda_event(fields, subscription.arn)
            payload = {
                "sub": subscription.arn,
                "check": CONFIRMED,
                "function": subscription.endpoint,
                "event": json.dumps(event, ensure_ascii=False),
            }
            key = f"{message.message_id}:{subscription.arn}"
            return (LAMBDA_KIND, orjson.dumps(payload), key, subscription.endpoint)
        return None

    def unsubscribed(self, topic: TopicRow | None, subscription: SubscriptionRow) -> None:
        message_id = str(uuid.uuid4())
        fields = notifications.confirmation(
            "UnsubscribeConfirmation", message_id, subscription.topic_arn, subscription.token,
            notifications.unsubscribe_text(subscription.arn), int(self._clock() * 1000),
            self.signer, self.public_url, _signature_version(topic),
        )  # fmt: skip
        self._put(self._post(subscription, fields, message_id, ALWAYS))

    # -- rendering into the outbox -------------------------------------------------------

    def _put(self, entry: Entry) -> None:
        kind, payload, key, dest = entry
        self.outbox.enqueue(kind, payload, key, dest)

    def _email(
        self,
        topic: TopicRow,
        subscription: SubscriptionRow,
        message_id: str,
        subject: str,
        text: str,
        html: str | None,
        check: str,
    ) -> Entry:
        display = topic.attributes.get("DisplayName") or DEFAULT_FROM_NAME
        payload = {
            "sub": subscription.arn,
            "check": check,
            "to": subscription.endpoint,
            "from_name": display,
            "subject": subject,
            "text": text,
            "html": html,
            "headers": {
                "x-amz-sns-message-id": message_id,
                "x-amz-sns-subscription-arn": subscription.arn,
            },
        }
        key = f"{message_id}:{subscription.arn}"
        return (EMAIL_KIND, orjson.dumps(payload), key, subscription.endpoint.lower())

    def _post(
        self,
        subscription: SubscriptionRow,
        fields: dict[str, Any],
        message_id: str,
        check: str,
        raw: bool = False,
    ) -> Entry:
        headers = notifications.http_headers(fields, subscription.arn)
        if raw:
            headers["x-amz-sns-rawdelivery"] = "true"
            body = str(fields["Message"])
        else:
            body = notifications.json_document(fields)
        payload = {
            "sub": subscription.arn,
            "check": check,
            "url": subscription.endpoint,
            "headers": headers,
            "body": body,
        }
        key = f"{message_id}:{subscription.arn}"
        return (HTTP_KIND, orjson.dumps(payload), key, subscription.endpoint)

    def _still_wanted(self, payload: dict[str, Any]) -> bool:
        check = payload.get("check", ALWAYS)
        if check == ALWAYS:
            return True
        sub = self.store.get_subscription(payload["sub"])
        if sub is None or (check == CONFIRMED and sub.pending):
            log.info(
                "event=sns_delivery_dropped subscription=%s reason=unsubscribed", payload["sub"]
            )
            return False
        return True

    # -- senders (called by the outbox on its threads) ----------------------------------

    def send_fanout(self, data: bytes) -> None:
        """Expand a fan-out record into one delivery per subscription, idempotently."""
        try:
            topic_arn, topic_seq, message = decode_record(data)
        except (ValueError, KeyError, TypeError) as exc:
            raise DeliveryFailed(f"not a fan-out record: {exc!r}", retryable=False) from None
        topic = self.store.get_topic(topic_arn)
        if topic is None or topic.seq != topic_seq:  # deleted (and maybe re-created) since
            log.info(
                "event=sns_fanout_dropped topic=%s message=%s reason=topic_deleted",
                topic_arn, message.message_id,
            )  # fmt: skip
            return
        entries: list[Entry] = []
        for sub in self._recipients.of(topic_arn, message):
            entry = self.render(topic, sub, message)
            if entry is not None:
                entries.append(entry)
            if len(entries) >= EXPAND_CHUNK:
                self.outbox.enqueue_many(entries)
                entries = []
        self.outbox.enqueue_many(entries)

    def send_email(self, data: bytes) -> None:
        payload = _payload(data, ("sub", "to", "from_name", "subject", "text"))
        if not self._still_wanted(payload):
            return
        if self._smtp is None:
            raise DeliveryFailed(
                "no SMTP server is configured for SNS email subscriptions: set [smtp] url in "
                "logsieve.toml or LOGSIEVE_SMTP_URL"
            )
        sender = self.email.sender
        if "<" not in sender:
            try:
                sender = formataddr((payload["from_name"], parseaddr(sender)[1] or sender))
            except ValueError as exc:  # a CR/LF in the display name: a header injection
                raise DeliveryFailed(
                    f"the topic's DisplayName cannot be a From name: {exc}", retryable=False
                ) from None
        send_email(
            self._smtp,
            sender,
            [payload["to"]],
            payload["subject"],
            payload["text"],
            payload.get("html"),
            payload.get("headers"),
        )

    def send_http(self, data: bytes) -> None:
        payload = _payload(data, ("sub", "url", "headers", "body"))
        if not self._still_wanted(payload):
            return
        url = payload["url"]
        try:
            response = self._http.post(
                url, content=payload["body"].encode("utf-8"), headers=payload["headers"]
            )
        except (
            httpx.InvalidURL, httpx.UnsupportedProtocol, httpx.LocalProtocolError, ValueError,
            TypeError,
        ) as exc:  # fmt: skip
            raise DeliveryFailed(f"POST {url}: cannot be sent: {exc}", retryable=False) from None
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"POST {url}: {exc or type(exc).__name__}") from None
        status = response.status_code
        if 200 <= status < 300:
            return
        retry_after = _retry_after(response.headers.get("retry-after"))
        raise DeliveryFailed(
            f"POST {url}: HTTP {status}",
            retryable=status in (408, 429) or status >= 500,
            retry_after=retry_after,
        )

    def send_lambda(self, data: bytes) -> None:
        payload = _payload(data, ("sub", "function", "event"))
        if not self._still_wanted(payload):
            return
        function = payload["function"]
        spec = self.lambdas.resolve(function) if self.lambdas is not None else None
        if spec is None:
            raise DeliveryFailed(f"Lambda function {function} does not exist", retryable=False)
        result = self.lambdas.invoke(spec, payload["event"].encode("utf-8"))  # type: ignore[union-attr]
        if not result.ok:
            detail = result.payload[:500].decode("utf-8", "replace")
            raise DeliveryFailed(f"Lambda function {function} failed: {detail}")


def _payload(data: bytes, required: tuple[str, ...]) -> dict[str, Any]:
    """A queued delivery's JSON; an item that is not one can never be sent (given up)."""
    try:
        payload = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise DeliveryFailed(f"not a delivery (bad JSON: {exc})", retryable=False) from None
    missing = [name for name in required if not isinstance(payload, dict) or name not in payload]
    if missing:
        raise DeliveryFailed(f"not a delivery (missing {', '.join(missing)})", retryable=False)
    return payload


def _signature_version(topic: TopicRow | None) -> str:
    if topic is None:
        return "1"
    return "2" if topic.attributes.get("SignatureVersion") == "2" else "1"


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
