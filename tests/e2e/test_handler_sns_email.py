"""The classic hand-written chain, unchanged: subscription → Lambda → SNS → email.

The handler is what teams write for AWS today: it decodes ``event["awslogs"]["data"]`` and
publishes a readable message with ``boto3.client("sns").publish`` to the topic named in its
environment. Under logsieve it runs as is (boto3 reaches this server through the
``AWS_ENDPOINT_URL`` the worker gets) and the email arrives at a real SMTP server.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.receivers import SmtpServer
from tests.server import Server, client

HANDLER = """
import base64, gzip, json, os

import boto3

sns = boto3.client("sns")


def handler(event, context):
    payload = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    for log_event in payload["logEvents"]:
        record = json.loads(log_event["message"])
        sns.publish(
            TopicArn=os.environ["TOPIC_ARN"],
            Subject=f"VPN: {record['username']} connected",
            Message=f"{record['username']} connected from {record['device-ip']}",
        )
"""


def test_aws_handler_publishing_to_sns_sends_the_email(tmp_path: Path) -> None:
    smtp = SmtpServer().start()
    code = tmp_path / "notifier"
    code.mkdir()
    (code / "app.py").write_text(HANDLER)
    topic = "arn:aws:sns:us-east-1:123456789012:vpn-logins"
    config = tmp_path / "logsieve.toml"
    config.write_text(
        f'[smtp]\nurl = "{smtp.url}"\n\n[sns]\nauto_confirm = true\n\n'
        f'[[functions]]\nname = "notifier"\nhandler = "app.handler"\ncode_dir = "{code}"\n'
        f'[functions.environment]\nTOPIC_ARN = "{topic}"\n'
    )
    server = Server(tmp_path / "data", config=config).start()
    try:
        sns = client(server, "sns")
        assert sns.create_topic(Name="vpn-logins")["TopicArn"] == topic
        sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="security@example.com")
        logs = client(server)
        logs.create_log_group(logGroupName="/vpn")
        logs.create_log_stream(logGroupName="/vpn", logStreamName="s")
        logs.put_subscription_filter(
            logGroupName="/vpn", filterName="connected",
            filterPattern='{ $.connection-attempt-status = "successful" }',
            destinationArn="arn:aws:lambda:us-east-1:123456789012:function:notifier",
        )  # fmt: skip
        records = [
            {"connection-attempt-status": "successful", "username": "alice",
             "device-ip": "198.51.100.23"},
            {"connection-attempt-status": "failed", "username": "mallory",
             "device-ip": "203.0.113.66"},
        ]  # fmt: skip
        logs.put_log_events(
            logGroupName="/vpn", logStreamName="s",
            logEvents=[{"timestamp": int(time.time() * 1000), "message": json.dumps(r)}
                       for r in records],
        )  # fmt: skip
        smtp.wait_messages(timeout=30)
        time.sleep(0.5)  # time for a duplicate to arrive, if there were one
        (message,) = smtp.messages()
        assert message["Subject"] == "VPN: alice connected"
        assert message["To"] == "security@example.com"
        body = message.get_body(("plain",)).get_content()
        assert body.startswith("alice connected from 198.51.100.23")
    finally:
        server.stop()
        smtp.stop()
