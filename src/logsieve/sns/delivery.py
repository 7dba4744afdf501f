"""Getting SNS messages to subscribers, through the durable outbox (``notify/outbox.py``).

``SnsDeliveries`` is the service's ``Deliverer``: Subscribe and Publish hand it one item per
subscription, which it renders completely (signed JSON, email text, Lambda event) and enqueues
in the outbox before the API answers, keyed by message id + subscription ARN so a retried
enqueue never sends twice. The outbox then calls the senders registered here, one kind per
protocol family, each with its own retries:

* ``sns-email`` (email, email-json): SMTP through ``notify.smtp`` with the configured server;
* ``sns-http`` (http, https): a POST of the JSON document with the ``x-amz-sns-*`` headers;
  2xx is delivered, 429/5xx/network errors are retried, other answers are not;
* ``sns-lambda``: ``LambdaService.invoke`` with the ``Records`` event; a failed invocation is
  retried.

Just before sending, a notification checks that its subscription still exists and is
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
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from logsieve.errors import ConfigError
from logsieve.notify.outbox import DeliveryFailed
from logsieve.notify.smtp import SmtpSettings, send_email
from logsieve.storage.topics import SubscriptionRow, TopicRow, TopicStore

from . import notifications
from .messages import Message
from .signing import Signer

__all__ = ["EMAIL_KIND", "HTTP_KIND", "LAMBDA_KIND", "EmailSettings", "SnsDeliveries"]

log = logging.getLogger(__name__)

EMAIL_KIND = "sns-email"
HTTP_KIND = "sns-http"
LAMBDA_KIND = "sns-lambda"
DEFAULT_FROM_NAME = "AWS Notifications"  # AWS's sender name when a topic has no DisplayName

# What must still be true when an item is sent: the subscription is confirmed (notifications),
# merely exists (confirmation requests), or nothing (the final UnsubscribeConfirmation).
CONFIRMED, EXISTS, ALWAYS = "confirmed", "exists", "always"


class Queue(Protocol):
    """The part of ``notify.outbox.Outbox`` deliveries use."""

    def enqueue(self, kind: str, payload: bytes, key: str | None = None) -> bool: ...

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
        self._clock = clock

    def register(self) -> None:
        """Tell the outbox how each kind is sent (call before ``outbox.run``).

        Email keeps trying for a day (an SMTP server that is down delays mail, never loses
        it). HTTP gives up after ten minutes, a little more patient than AWS's default policy
        (three retries 20 s apart): a dead endpoint must not hold the other HTTP subscribers'
        deliveries back for long, since a kind's oldest items go first. Given-up items stay
        in the outbox with their error, for ``status()`` and re-driving.
        """
        self.outbox.register(
            EMAIL_KIND, self.send_email, retry_base=2.0, retry_max_backoff=300.0, concurrency=4
        )
        self.outbox.register(
            HTTP_KIND, self.send_http, retry_base=5.0, retry_max_backoff=20.0,
            give_up_after=600.0, concurrency=32,
        )  # fmt: skip
        self.outbox.register(
            LAMBDA_KIND, self.send_lambda, retry_base=1.0, retry_max_backoff=60.0,
            give_up_after=3600.0, concurrency=16,
        )  # fmt: skip

    def routes(self) -> list[Route]:
        """The signing certificate at ``SigningCertURL`` (public, as AWS serves it)."""
        pem = self.signer.certificate_pem

        async def certificate(request: Request) -> Response:
            return Response(pem, media_type="application/x-pem-file")

        return [Route(f"/{self.signer.certificate_name}", certificate, methods=["GET"])]

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
            self._email(topic, subscription, message_id, subject, text, html, EXISTS)
            return
        # email-json and http/https get the signed SubscriptionConfirmation document.
        fields = notifications.confirmation(
            "SubscriptionConfirmation", message_id, topic.arn, subscription.token,
            notifications.subscribe_text(topic.arn), now_ms, self.signer, self.public_url,
            _signature_version(topic),
        )  # fmt: skip
        if subscription.protocol == "email-json":
            body = notifications.json_document(fields)
            self._email(topic, subscription, message_id, subject, body, None, EXISTS)
        elif subscription.protocol in ("http", "https"):
            self._post(subscription, fields, message_id, EXISTS)

    def deliver(self, topic: TopicRow, subscription: SubscriptionRow, message: Message) -> None:
        protocol = subscription.protocol
        version = _signature_version(topic)
        if protocol == "email":
            link = notifications.unsubscribe_url(self.public_url, subscription.arn)
            text = notifications.email_text(message.for_protocol("email"), link)
            subject = message.subject or notifications.DEFAULT_EMAIL_SUBJECT
            self._email(topic, subscription, message.message_id, subject, text, None, CONFIRMED)
            return
        fields = notifications.notification(
            message, subscription.arn, protocol, self.signer, self.public_url, version
        )
        if protocol == "email-json":
            subject = message.subject or notifications.DEFAULT_EMAIL_SUBJECT
            body = notifications.json_document(fields)
            self._email(topic, subscription, message.message_id, subject, body, None, CONFIRMED)
        elif protocol in ("http", "https"):
            if subscription.attributes.get("RawMessageDelivery") == "true":
                self._post(subscription, fields, message.message_id, CONFIRMED, raw=True)
            else:
                self._post(subscription, fields, message.message_id, CONFIRMED)
        elif protocol == "lambda":
            event = notifications.lambda_event(fields, subscription.arn)
            payload = {
                "sub": subscription.arn,
                "check": CONFIRMED,
                "function": subscription.endpoint,
                "event": json.dumps(event, ensure_ascii=False),
            }
            self._enqueue(LAMBDA_KIND, payload, f"{message.message_id}:{subscription.arn}")

    def unsubscribed(self, topic: TopicRow | None, subscription: SubscriptionRow) -> None:
        message_id = str(uuid.uuid4())
        fields = notifications.confirmation(
            "UnsubscribeConfirmation", message_id, subscription.topic_arn, subscription.token,
            notifications.unsubscribe_text(subscription.arn), int(self._clock() * 1000),
            self.signer, self.public_url, _signature_version(topic),
        )  # fmt: skip
        self._post(subscription, fields, message_id, ALWAYS)

    # -- rendering into the outbox -------------------------------------------------------

    def _enqueue(self, kind: str, payload: dict[str, Any], key: str) -> None:
        self.outbox.enqueue(kind, orjson.dumps(payload), key)

    def _email(
        self,
        topic: TopicRow,
        subscription: SubscriptionRow,
        message_id: str,
        subject: str,
        text: str,
        html: str | None,
        check: str,
    ) -> None:
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
        self._enqueue(EMAIL_KIND, payload, f"{message_id}:{subscription.arn}")

    def _post(
        self,
        subscription: SubscriptionRow,
        fields: dict[str, Any],
        message_id: str,
        check: str,
        raw: bool = False,
    ) -> None:
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
        self._enqueue(HTTP_KIND, payload, f"{message_id}:{subscription.arn}")

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

    def send_email(self, data: bytes) -> None:
        payload = orjson.loads(data)
        if not self._still_wanted(payload):
            return
        if self._smtp is None:
            raise DeliveryFailed(
                "no SMTP server is configured for SNS email subscriptions: set [smtp] url in "
                "logsieve.toml or LOGSIEVE_SMTP_URL"
            )
        sender = self.email.sender
        if "<" not in sender:
            sender = formataddr((payload["from_name"], parseaddr(sender)[1] or sender))
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
        payload = orjson.loads(data)
        if not self._still_wanted(payload):
            return
        url = payload["url"]
        try:
            response = self._http.post(
                url, content=payload["body"].encode("utf-8"), headers=payload["headers"]
            )
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"POST {url}: {exc or type(exc).__name__}") from None
        status = response.status_code
        if 200 <= status < 300:
            return
        retry_after = _retry_after(response.headers.get("retry-after"))
        raise DeliveryFailed(
            f"POST {url}: HTTP {status}",
            retryable=status == 429 or status >= 500,
            retry_after=retry_after,
        )

    def send_lambda(self, data: bytes) -> None:
        payload = orjson.loads(data)
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
