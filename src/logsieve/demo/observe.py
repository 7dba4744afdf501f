"""What the demo shows, read from where a user would look: the server and the two inboxes.

* Matches per rule: the server's ``GET /_logsieve/subscriptions`` (SigV4-signed like every
  call), where each alert rule is a standing subscription named ``alert:<rule>`` whose
  ``deliveredEvents`` are the events its filter pattern matched.
* Queued and sent notifications per channel: the server's durable outbox file
  (``Outbox.status()`` on ``outbox.db``, which is made to be read by more than one process).
* The alerts themselves: the Maildir and the Datadog JSON Lines file, read back from disk --
  so what the screen shows is what the files hold -- with the rule taken from the
  ``X-Logsieve-Source`` header or the Datadog ``rule:`` tag; an SNS email (an alarm's
  notification, a subscription confirmation) goes under the alarm's name or ``sns``.
"""

from __future__ import annotations

import email
import email.policy
import json
import mailbox
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from logsieve.config import Credential
from logsieve.notify.outbox import Outbox
from logsieve.storage.factory import open_stores

from .latency import LatencyProbe

__all__ = ["Alert", "ChannelStatus", "Observer", "RuleStatus"]

_FOOTER = "\n-- \n"  # the email channel's signature separator before severity/source/time
_MARKDOWN_OPEN, _MARKDOWN_CLOSE = "%%% \n", "\n %%%"
RULE_PREFIX = "alert:"
_ALARM_SUBJECT_RE = re.compile(r'^(?:ALARM|OK|INSUFFICIENT_DATA): "(.+)" in ')


def _sns_rule(message: Any) -> str:
    """An SNS email's label: the alarm it notifies about, else ``sns``; "" if not SNS's."""
    if message.get("x-amz-sns-message-id") is None and not str(
        message.get("Subject", "")
    ).startswith("AWS Notification"):
        return ""
    found = _ALARM_SUBJECT_RE.match(" ".join(str(message.get("Subject", "")).split()))
    return found.group(1) if found else "sns"


@dataclass(frozen=True)
class Alert:
    channel: str  # "email" | "datadog"
    rule: str
    title: str
    text: str  # the rendered body, as the recipient reads it
    arrived_ms: int
    latency_ms: int | None  # ingestion -> arrival; None when no single event caused it


@dataclass(frozen=True)
class RuleStatus:
    rule: str
    group: str
    matched: int  # events the rule's pattern matched and the pump handed to it
    lag_events: int
    state: str
    failed_attempts: int
    last_error: str | None


@dataclass(frozen=True)
class ChannelStatus:
    channel: str
    sent: int
    pending: int
    given_up: int
    last_error: str | None


class Observer:
    def __init__(
        self,
        endpoint: str,
        credential: Credential,
        region: str,
        data_dir: Path,
        maildir: Path,
        datadog_file: Path,
        probe: LatencyProbe,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.credentials = Credentials(credential.access_key_id, credential.secret_access_key)
        self.region = region
        self.maildir = mailbox.Maildir(maildir, factory=None, create=False)
        self.datadog_file = datadog_file
        self.probe = probe
        self.outbox = Outbox(open_stores(data_dir).outbox())
        self.http = httpx.Client(timeout=5.0)
        self._seen_mail: set[str] = set()
        self._datadog_offset = 0
        self._rules: list[RuleStatus] = []
        self.status_error: str | None = None

    # --- the server -------------------------------------------------------------------------

    def rules(self) -> list[RuleStatus]:
        """Every alert rule's standing subscription (the last good answer if this one
        failed; ``status_error`` says why)."""
        url = f"{self.endpoint}/_logsieve/subscriptions"
        request = AWSRequest(method="GET", url=url, data=b"")
        SigV4Auth(self.credentials, "logs", self.region).add_auth(request)
        try:
            response = self.http.get(url, headers=dict(request.headers.items()))
            response.raise_for_status()
            found = response.json()["subscriptions"]
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            self.status_error = f"status unavailable: {exc}"
            return self._rules
        self.status_error = None
        self._rules = [
            RuleStatus(
                rule=s["filterName"].removeprefix(RULE_PREFIX),
                group=s["logGroupName"],
                matched=int(s.get("deliveredEvents") or 0),
                lag_events=int(s.get("lagEvents") or 0),
                state=str(s.get("state") or ""),
                failed_attempts=int(s.get("failedAttempts") or 0),
                last_error=s.get("lastError"),
            )
            for s in found
            if str(s.get("filterName", "")).startswith(RULE_PREFIX)
        ]
        return self._rules

    def channels(self) -> dict[str, ChannelStatus]:
        """The outbox per channel: sent, waiting, given up."""
        found = {}
        for row in self.outbox.status():
            kind = str(row["kind"])
            if not kind.startswith("channel:"):
                continue
            name = kind.removeprefix("channel:")
            found[name] = ChannelStatus(
                name, int(row["sent"]), int(row["pending"]), int(row["given_up"]),
                row.get("last_error"),
            )  # fmt: skip
        return found

    # --- the inboxes ------------------------------------------------------------------------

    def new_alerts(self) -> list[Alert]:
        """Alerts that arrived since the last call, oldest first."""
        found = self._new_emails() + self._new_datadog_events()
        found.sort(key=lambda alert: alert.arrived_ms)
        return found

    def _new_emails(self) -> list[Alert]:
        found = []
        for key in sorted(set(self.maildir.keys()) - self._seen_mail):
            self._seen_mail.add(key)
            try:
                arrived_ms = int(self.maildir.get_message(key).get_date() * 1000)
                message: Any = email.message_from_bytes(
                    self.maildir.get_bytes(key), policy=email.policy.default
                )
            except (KeyError, OSError):
                continue
            body = message.get_body(("plain",))
            text = body.get_content() if body is not None else ""
            text = text.split(_FOOTER, 1)[0].strip()
            rule = str(message.get("X-Logsieve-Source", "") or "") or _sns_rule(message)
            tags = [t.strip() for t in str(message.get("X-Logsieve-Tags", "") or "").split(",")]
            title = " ".join(str(message.get("Subject", "")).split())
            latency = self.probe.measure(rule, text, tags, arrived_ms)
            found.append(Alert("email", rule, title, text, arrived_ms, latency))
        return found

    def _new_datadog_events(self) -> list[Alert]:
        try:
            with self.datadog_file.open("rb") as handle:
                handle.seek(self._datadog_offset)
                chunk = handle.read()
        except OSError:
            return []
        complete = chunk[: chunk.rfind(b"\n") + 1]  # a line being written waits for next time
        self._datadog_offset += len(complete)
        found = []
        for line in complete.splitlines():
            try:
                record = json.loads(line)
                event = record["event"]
                arrived_ms = int(record["received_ms"])
            except (ValueError, KeyError, TypeError):
                continue
            tags = [str(tag) for tag in event.get("tags", [])]
            rule = next((t.removeprefix("rule:") for t in tags if t.startswith("rule:")), "")
            text = str(event.get("text", ""))
            text = text.removeprefix(_MARKDOWN_OPEN).removesuffix(_MARKDOWN_CLOSE).strip()
            latency = self.probe.measure(rule, text, tags, arrived_ms)
            found.append(Alert("datadog", rule, str(event["title"]), text, arrived_ms, latency))
        return found

    def close(self) -> None:
        self.http.close()
        self.outbox.close()
