"""``vpn-connect-realtime``: a Client VPN client connect handler that alerts at once.

Client VPN delivers connection logs to CloudWatch Logs in batches, minutes after the fact; the
client connect handler is called synchronously on every connection attempt, so an alert sent
from it arrives within a second. Deploy this file as a Lambda function whose name starts with
``AWSClientVPN-`` (Python 3.12, handler ``vpn_connect_realtime.handler``, only the standard
library and boto3), name it in the endpoint's ``ClientConnectOptions``, and set:

* ``TOPIC_ARN``: the SNS topic the alert is published to (email, Slack via Chatbot...);
* ``ALLOW`` (optional): comma-separated usernames or certificate common names allowed to
  connect; empty or unset allows everyone (the handler then only alerts).

The alert reads as the ``vpn-connections`` recipe's. Cost: a Lambda invocation on the
connection path (a slow or failing handler denies connections: keep it small), and one SNS
publish per connection. The handler never lets an alert failure deny a connection.
"""

from __future__ import annotations

import os
from typing import Any

DEVICES = {"mac": "macOS", "win": "Windows", "windows": "Windows", "linux": "Linux",
           "ios": "iOS", "android": "Android"}  # fmt: skip


def _who(event: dict[str, Any]) -> str:
    return event.get("username") or event.get("common-name") or "someone"


def alert(event: dict[str, Any]) -> tuple[str, str]:
    """The subject and body of the "someone connected" alert."""
    who = _who(event)
    ip = event.get("public-ip") or "an unknown address"
    subject = f"VPN: {who} connected from {ip}"
    platform = event.get("platform") or ""
    device = DEVICES.get(platform, platform)
    identity = event.get("username") or ""
    if identity and event.get("common-name"):
        identity += f" (certificate {event['common-name']})"
    elif not identity:
        identity = f"{event.get('common-name') or '-'} (certificate common name)"
    origin = event.get("public-ip") or "-"
    if device:
        origin += f" ({device})"
    body = (
        f"{who} connected to the Client VPN.\n\n"
        f"Who:        {identity}\n"
        f"From:       {origin}\n"
        f"Endpoint:   {event.get('endpoint-id')}\n"
        f"Connection: {event.get('connection-id')}\n"
        f"Client:     OpenVPN {event.get('client-openvpn-version') or '-'}\n"
    )
    return subject, body


def decide(event: dict[str, Any], allow: str) -> tuple[bool, str]:
    """(allowed, message shown to a denied client) under the ``ALLOW`` list."""
    allowed = {name.strip() for name in allow.split(",") if name.strip()}
    if not allowed:
        return True, ""
    if event.get("username") in allowed or event.get("common-name") in allowed:
        return True, ""
    return False, f"{_who(event)} is not allowed to connect to this VPN."


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    allowed, message = decide(event, os.environ.get("ALLOW", ""))
    if allowed:
        try:
            import boto3

            subject, body = alert(event)
            boto3.client("sns").publish(
                TopicArn=os.environ["TOPIC_ARN"], Subject=subject[:99], Message=body
            )
        except Exception as exc:  # an alert that fails must not deny the connection
            print(f"alert not sent: {exc!r}")
    return {
        "allow": allowed,
        "error-msg-on-denied-connection": message,
        "posture-compliance-statuses": [],
        "schema-version": "v3",
    }
