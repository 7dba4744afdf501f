"""The whole chain: a recipe added with the CLI, Client VPN logs in, readable email out.

Real parts only: the logsieve server process, boto3, the `logsieve recipes add` command and
an aiosmtpd SMTP server as the inbox. Covers the issue's failure cases: SMTP down for a while
(the alert arrives later, once), and redelivery after a crash (no duplicate alert).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.receivers import SmtpServer
from tests.server import ACCESS_KEY, SECRET_KEY, Server, client
from tests.sns.helpers import admin_get
from tests.waiting import wait_for

GROUP = "/aws/clientvpn/corp"


def _outbox_idle(server: Server) -> bool:
    """Nothing waiting in the server's outbox (every alert sent and recorded as sent)."""
    channels = admin_get(server, "notifications")["channels"]
    return all(channel["pending"] == 0 for channel in channels)


def vpn_record(connection: str, user: str, status: str = "successful", at: str = "08:00:18"):
    return json.dumps({
        "connection-log-type": "connection-attempt", "connection-attempt-status": status,
        "connection-reset-status": "NA", "connection-attempt-failure-reason": "NA",
        "connection-id": connection, "client-vpn-endpoint-id": "cvpn-endpoint-0a1b2c3d4e5f67890",
        "transport-protocol": "udp", "connection-start-time": f"2025-03-10 {at}",
        "connection-last-update-time": f"2025-03-10 {at}", "client-ip": "172.16.0.10",
        "common-name": f"{user}.laptop.corp.example", "device-type": "mac",
        "device-ip": "198.51.100.23", "port": "11588", "ingress-bytes": "0",
        "egress-bytes": "0", "ingress-packets": "0", "egress-packets": "0",
        "connection-end-time": "NA", "username": user, "connection-duration-seconds": "0",
    })  # fmt: skip


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as running:
        yield running


def test_vpn_connection_email_once_even_with_smtp_down_and_a_crash(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    config = tmp_path / "logsieve.toml"
    config.write_text(
        "# my settings\n"
        f'[smtp]\nurl = "{smtp.url}"\n\n'
        '[[channels]]\nname = "oncall"\ntype = "email"\nto = ["oncall@example.com"]\n'
        "retry_seconds = 600\n"
    )
    added = subprocess.run(
        [sys.executable, "-m", "logsieve", "recipes", "add", "vpn-connections",
         "--log-group", GROUP, "--channel", "oncall", "--timezone", "Asia/Tokyo",
         "--config", str(config)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert config.read_text().startswith("# my settings")
    server = Server(tmp_path / "data", config=config).start()
    try:
        logs = client(server)
        logs.create_log_group(logGroupName=GROUP)
        logs.create_log_stream(logGroupName=GROUP, logStreamName="cvpn-endpoint-0a1b-2025/03/10")

        def put(*records: str) -> None:
            now = int(time.time() * 1000)
            logs.put_log_events(
                logGroupName=GROUP, logStreamName="cvpn-endpoint-0a1b-2025/03/10",
                logEvents=[{"timestamp": now, "message": r} for r in records],
            )  # fmt: skip

        # AWS logs the same connection repeatedly: one email per connection-id.
        put(vpn_record("cvpn-connection-1", "alice"), vpn_record("cvpn-connection-1", "alice"),
            vpn_record("cvpn-connection-2", "bob", status="failed"))  # fmt: skip
        smtp.wait_messages(timeout=30)  # alice's email
        time.sleep(1.0)
        assert len(smtp.messages()) == 1
        (message,) = smtp.messages()
        subject = smtp.subjects()[0]
        assert "alice" in subject
        body = message.get_body(("plain",)).get_content()
        assert "198.51.100.23" in body and "cvpn-endpoint-0a1b2c3d4e5f67890" in body
        assert "17:00:18" in body  # 08:00:18 UTC shown in Asia/Tokyo

        # SMTP down for a while: the alert is kept and arrives later, once.
        smtp.stop()
        put(vpn_record("cvpn-connection-3", "carol"))
        time.sleep(2.0)
        assert not any("carol" in s for s in smtp.subjects())
        smtp.start()  # on the same port, as configured
        wait_for(lambda: any("carol" in s for s in smtp.subjects()), timeout=60,
                 what="carol's email after SMTP came back")  # fmt: skip

        # A crash and restart re-reads the window in flight at most: still no duplicates.
        # (The kill waits until the outbox has recorded carol's email as sent: between the
        # SMTP server's 250 and that commit, at-least-once delivery may send it again.)
        wait_for(lambda: _outbox_idle(server), what="the outbox to record carol's email")
        server.kill()
        server.start()
        put(vpn_record("cvpn-connection-1", "alice"))  # the same connection again, later
        put(vpn_record("cvpn-connection-4", "dave"))
        wait_for(lambda: any("dave" in s for s in smtp.subjects()), what="dave's email")
        time.sleep(1.0)
        subjects = smtp.subjects()
        assert sum("alice" in s for s in subjects) == 1
        assert sum("carol" in s for s in subjects) == 1
        assert not any("bob" in s for s in subjects)  # failed attempts are not connections

        outbox = subprocess.run(
            [sys.executable, "-m", "logsieve", "notifications", "--json",
             "--endpoint-url", server.url],
            env={"LOGSIEVE_ACCESS_KEY_ID": ACCESS_KEY, "LOGSIEVE_SECRET_ACCESS_KEY": SECRET_KEY,
                 "LOGSIEVE_CONFIG": "", "PATH": "/usr/bin:/bin"},
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        (oncall,) = [c for c in json.loads(outbox.stdout)["channels"]
                     if c["kind"] == "channel:oncall"]  # fmt: skip
        assert oncall["pending"] == 0 and oncall["given_up"] == 0
        assert oncall["failed_attempts"] >= 1  # the SMTP outage was seen, and retried
    finally:
        server.stop()
