"""Alarm actions, run on state transitions only, delivered through the durable outbox.

A transition's actions are planned with it and committed in the same transaction as the new
state (``StateChange.actions``); ``hand_on`` then moves them into the outbox under an
idempotency key (alarm, transition time, action ARN), and only then forgets them. A crash at
any point leaves them in one of the two places, and the key keeps a second hand-over from
queuing them twice. The outbox sends each one (retrying SNS and Lambda being unreachable) and
its result is written to the alarm's history as an ``Action`` item, as AWS does. A send the
outbox repeats after a crash is a no-op: the SNS message id is derived from the action's key
(SNS keys its fan-out by it) and the history item is recorded once per key. (A Lambda action
repeated that way is invoked again: at least once, like AWS's asynchronous invocations.)

The outbox (``notify/``, a layer above) and the SNS and Lambda services are handed in by the
composition root as the small interfaces below.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, Protocol

import orjson

from logsieve.errors import ServiceError
from logsieve.storage.alarms import AlarmRow, AlarmStore

from . import history, messages
from .model import alarm_arn

log = logging.getLogger(__name__)

KIND = "alarm-action"


class Queue(Protocol):
    """The part of ``notify.outbox.Outbox`` alarm actions use."""

    def enqueue(
        self, kind: str, payload: bytes, key: str | None = None, dest: str = ""
    ) -> bool: ...

    def register(self, kind: str, send: Callable[[bytes], None], **policy: Any) -> None: ...


class Publisher(Protocol):
    """The part of ``sns.SnsService`` SNS actions use: Publish with the API's rules."""

    def publish(self, params: dict[str, Any], message_id: str | None = None) -> dict[str, Any]:
        """Publish; the same ``message_id`` twice sends once."""
        ...


class Invoker(Protocol):
    """The part of ``lambdas.LambdaService`` Lambda actions use."""

    def resolve(self, arn: str) -> Any: ...

    def invoke(self, spec: Any, event: bytes) -> Any: ...


class AlarmActions:
    """Plans, hands on and sends the actions of alarm transitions."""

    def __init__(
        self,
        store: AlarmStore,
        region: str,
        account_id: str,
        queue: Queue,
        sns: Publisher | None = None,
        lambdas: Invoker | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.region = region
        self.account_id = account_id
        self.queue = queue
        self.sns = sns
        self.lambdas = lambdas
        self.clock = clock
        self._hand_on_lock = threading.Lock()

    def register(self) -> None:
        """Tell the outbox how alarm actions are sent (before it runs)."""
        self.queue.register(
            KIND, self.send, retry_base=1.0, retry_max_backoff=60.0, give_up_after=86_400.0,
            concurrency=4, per_destination=2, attempt_timeout=120.0,
        )  # fmt: skip

    def plan(self, after: AlarmRow, before: AlarmRow) -> list[tuple[str, bytes]]:
        """The actions of the transition from ``before`` to ``after``: (key, payload)."""
        arn = alarm_arn(self.region, self.account_id, after.name)
        planned = []
        for action in messages.actions_for(after):
            payload: dict[str, Any] = {"alarm": after.name, "action": action}
            if action.startswith("arn:aws:sns:"):
                payload["subject"] = messages.subject(after, self.region)
                payload["message"] = messages.sns_message(
                    after, before.state_value, self.region, self.account_id, arn
                )
                payload["email"] = messages.email_text(
                    after, before.state_value, self.region, self.account_id, arn
                )
            elif action.startswith("arn:aws:lambda:"):
                event = messages.lambda_event(after, before, self.region, self.account_id, arn)
                payload["event"] = event
            else:
                payload["unsupported"] = True  # EC2 / Auto Scaling / SSM actions
            key = f"{after.name}:{after.state_updated_ms}:{action}"
            payload["key"] = key
            planned.append((key, orjson.dumps(payload)))
        return planned

    def hand_on(self) -> None:
        """Move committed actions into the outbox (idempotently), then forget them."""
        with self._hand_on_lock:
            while pending := self.store.pending_actions():
                for _, key, payload in pending:
                    action = orjson.loads(payload)["action"]
                    self.queue.enqueue(KIND, payload, key, action)
                self.store.actions_done([ident for ident, _, _ in pending])

    def send(self, data: bytes) -> None:
        """Run one action (called by the outbox; raising makes it retry)."""
        payload = orjson.loads(data)
        name, action = payload["alarm"], payload["action"]
        error = None
        if payload.get("unsupported"):
            error = "This action is not supported by logsieve."
        elif "message" in payload:
            error = self._publish(payload)
        else:
            error = self._invoke(action, payload["event"])
        now = int(self.clock() * 1000)
        self.store.add_history([history.action(name, action, now, error)], once=payload["key"])
        if error is not None:
            log.warning("alarm action failed alarm=%s action=%s error=%s", name, action, error)

    def _publish(self, payload: dict[str, Any]) -> str | None:
        if self.sns is None:
            return "SNS is not available"
        structure = {"default": payload["message"], "email": payload["email"]}
        try:
            self.sns.publish(
                {
                    "TopicArn": payload["action"],
                    "Subject": payload["subject"],
                    "Message": orjson.dumps(structure).decode("utf-8"),
                    "MessageStructure": "json",
                },
                message_id=str(uuid.uuid5(uuid.NAMESPACE_URL, payload["key"])),
            )
        except ServiceError as failure:  # a missing topic: AWS records it and moves on
            return f"{failure.code}: {failure.message}"
        return None

    def _invoke(self, action: str, event: dict[str, Any]) -> str | None:
        spec = self.lambdas.resolve(action) if self.lambdas is not None else None
        if spec is None:
            return f"Lambda function {action} does not exist"
        result = self.lambdas.invoke(spec, orjson.dumps(event))  # type: ignore[union-attr]
        if not getattr(result, "ok", True):
            log.warning("alarm lambda action returned an error action=%s", action)
        return None  # an asynchronous invocation: queued is success, as on AWS
