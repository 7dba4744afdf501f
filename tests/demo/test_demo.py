"""``logsieve demo`` as a new user runs it: one command, an account set up through the API,
alerts of all three kinds and an alarm's ALARM and OK emails delivered.

The whole demo runs as a subprocess (stdout a pipe, so the plain display) from a clean data
directory; the assertions read what it leaves behind the way a user would -- the Maildir with
``mailbox``, the Datadog events file as JSON Lines, and the server started again on the demo's
data with ``logsieve serve`` and asked through boto3 -- and check that its session has no
process left. A run without a VPN email, an IAM email, a rejected-traffic event, or the alarm's
ALARM email followed by its OK email fails.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import json
import mailbox
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from logsieve.demo.datadog_receiver import DatadogReceiver
from logsieve.demo.plan import EMAIL_TO, GROUPS, WATCHED_USERS
from logsieve.formats.vpc_flow import FlowLogFormat
from tests.server import Server, client


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("LOGSIEVE_")}


def _session_members(session: int) -> list[str]:
    """Processes still in ``session`` (the demo was started as its leader), as "pid cmd"."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # exited while we looked
        fields = text[text.rfind(")") + 2 :].split()  # after "pid (comm) "
        if int(fields[3]) == session:  # state, ppid, pgrp, session
            pid = stat.parent.name
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            found.append(f"{pid} {cmdline.strip()}")
    return found


def _messages(maildir: Path) -> list[email.message.EmailMessage]:
    box = mailbox.Maildir(maildir, factory=None, create=False)
    return [
        email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
        for key in box.iterkeys()
    ]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc for children")
def test_demo_delivers_all_three_kinds_of_alert(tmp_path: Path) -> None:
    data = tmp_path / "logsieve-demo"
    started = time.monotonic()
    demo = subprocess.Popen(
        [sys.executable, "-m", "logsieve", "demo", "--duration", "15", "--data-dir", str(data)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=_env(),
        start_new_session=True,  # its own session: every process it starts is found by sid
    )
    try:
        out, err = demo.communicate(timeout=180)
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()
    elapsed = time.monotonic() - started
    assert demo.returncode == 0, f"exit {demo.returncode}\n{err}\n{out[-3000:]}"
    # 15 s of traffic, stretched until the alarm has gone to ALARM and back (at most ~45 s)
    assert elapsed < 120, f"the demo took {elapsed:.0f} s"
    time.sleep(0.2)  # the kernel reaps the server a moment after the demo's wait()
    assert _session_members(demo.pid) == [], "processes left behind"

    # Email: VPN connections and IAM activity, in the Maildir, readable as mail.
    messages = _messages(data / "mail")
    by_rule = Counter(str(m["X-Logsieve-Source"]) for m in messages)
    vpn = [m for m in messages if m["X-Logsieve-Source"] == "vpn-connections"]
    iam = [m for m in messages if m["X-Logsieve-Source"] == "iam-user-activity"]
    assert vpn, f"no VPN connection email; emails by rule: {dict(by_rule)}"
    assert iam, f"no IAM activity email; emails by rule: {dict(by_rule)}"
    for message in messages:
        assert message["To"] == EMAIL_TO and message["Delivered-To"] == EMAIL_TO
    _assert_alarm_emails(messages)
    for message in vpn:
        assert re.fullmatch(r"VPN: \S+ connected from .+", str(message["Subject"]))
        body = message.get_body(("plain",)).get_content()
        assert "connected to the Client VPN." in body
        assert re.search(r"^Connection: cvpn-connection-[0-9a-f]{17}$", body, re.MULTILINE)
    for message in iam:
        user = str(message["Subject"]).split()[0]
        assert user in WATCHED_USERS, message["Subject"]
        body = message.get_body(("plain",)).get_content()
        assert re.search(r"^Event ID:\s+[0-9a-f-]{36}$", body, re.MULTILINE), body

    # Datadog: rejected traffic, as events Datadog would have accepted.
    lines = (data / "datadog-events.jsonl").read_text().splitlines()
    events = [json.loads(line)["event"] for line in lines]
    rejected = [e for e in events if "rule:rejected-traffic" in e["tags"]]
    assert rejected, f"no rejected-traffic event among {len(events)} Datadog events"
    for event in rejected:
        assert re.fullmatch(r"Rejected (the \d+ port access|\S+) from \S+", event["title"])
        assert event["text"].startswith("%%% \n") and "was rejected." in event["text"]
        assert event["alert_type"] == "warning" and "env:demo" in event["tags"]

    # The summary: counts that match the files, where they are, how to connect.
    assert "Summary after" in out
    assert f"{len(messages)} messages in the Maildir" in out
    assert f"{len(events)} events in" in out
    assert "mutt -f " in out and "datadog-events.jsonl" in out
    assert "aws configure set aws_access_key_id AKIA" in out
    assert 'boto3.client("logs", endpoint_url="http://127.0.0.1:' in out
    assert "Traceback" not in err
    assert "OK -> ALARM" in out and "ALARM -> OK" in out  # the transitions, shown live
    assert "flood accepted -> ALARM email:" in out

    _assert_account(data)


def _assert_alarm_emails(messages: list[email.message.EmailMessage]) -> None:
    """The subscription was confirmed by its link, then the alarm notified ALARM, then OK."""
    subjects = [str(m["Subject"]) for m in sorted(messages, key=_received)]
    assert "AWS Notification - Subscription Confirmation" in subjects
    alarm = [s for s in subjects if s.endswith('"rejected-traffic-rate" in US East (N. Virginia)')]
    assert 'ALARM: "rejected-traffic-rate" in US East (N. Virginia)' in alarm, subjects
    after = alarm[alarm.index('ALARM: "rejected-traffic-rate" in US East (N. Virginia)') :]
    assert 'OK: "rejected-traffic-rate" in US East (N. Virginia)' in after, alarm
    body = next(
        m.get_body(("plain",)).get_content()
        for m in messages
        if str(m["Subject"]).startswith("ALARM: ")
    )
    assert 'Amazon CloudWatch Alarm "rejected-traffic-rate"' in body
    assert "has entered the ALARM state" in body
    assert "- State Change:               OK -> ALARM" in body


def _received(message: email.message.EmailMessage) -> float:
    return email.utils.parsedate_to_datetime(str(message["Date"])).timestamp()


def _assert_account(data: Path) -> None:
    """Started again on the demo's data, the server holds what the demo configured through the
    API, and the flow log's records are in its configured format for the account's ENIs."""
    server = Server(data)
    try:
        server.start(timeout=90)  # a loaded machine: the demo's run just ended
        ec2, logs = client(server, "ec2", retries=0), client(server, "logs", retries=0)
        (flow,) = ec2.describe_flow_logs()["FlowLogs"]
        assert flow["LogGroupName"] == GROUPS["vpc-flow"]
        interfaces = {
            i["NetworkInterfaceId"]
            for i in ec2.describe_network_interfaces(
                Filters=[{"Name": "vpc-id", "Values": [flow["ResourceId"]]}]
            )["NetworkInterfaces"]
        }
        fmt = FlowLogFormat.from_string(flow["LogFormat"])
        events = logs.filter_log_events(logGroupName=GROUPS["vpc-flow"], limit=500)["events"]
        assert len(events) == 500
        records = [fmt.parse(event["message"]) for event in events]
        assert {str(r["interface-id"]) for r in records} <= interfaces
        assert {str(r["action"]) for r in records if r["action"]} <= {"ACCEPT", "REJECT"}
        for event, record in zip(events, records, strict=True):
            assert event["logStreamName"] == f"{record['interface-id']}-all"
        (endpoint,) = ec2.describe_client_vpn_endpoints()["ClientVpnEndpoints"]
        options = endpoint["ConnectionLogOptions"]
        assert options["Enabled"] and options["CloudwatchLogGroup"] == GROUPS["client-vpn"]
        (trail,) = client(server, "cloudtrail", retries=0).describe_trails()["trailList"]
        assert trail["CloudWatchLogsLogGroupArn"].split(":")[6] == GROUPS["cloudtrail"]
        history = client(server, "cloudwatch", retries=0).describe_alarm_history(
            AlarmName="rejected-traffic-rate", HistoryItemType="StateUpdate"
        )["AlarmHistoryItems"]
        changes = [item["HistorySummary"] for item in reversed(history)]
        assert "Alarm updated from OK to ALARM" in changes, changes
        assert changes.index("Alarm updated from OK to ALARM") < changes.index(
            "Alarm updated from ALARM to OK"
        )
    finally:
        server.stop()


def test_refuses_a_directory_it_did_not_make(tmp_path: Path) -> None:
    precious = tmp_path / "mine"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    done = subprocess.run(
        [sys.executable, "-m", "logsieve", "demo", "--data-dir", str(precious)],
        capture_output=True, text=True, timeout=60, env=_env(),
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "not from `logsieve demo`" in done.stderr
    assert (precious / "notes.txt").read_text() == "keep me"


def test_datadog_receiver_answers_like_datadog(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    good = {"title": "Rejected", "text": "%%% \nbody\n %%%", "tags": ["a:b"], "alert_type": "info"}
    with DatadogReceiver(path, "k" * 32) as receiver, httpx.Client() as http:

        def post(body: object, key: str = "k" * 32) -> httpx.Response:
            return http.post(receiver.url, json=body, headers={"DD-API-KEY": key})

        assert post(good, key="wrong").status_code == 403
        assert post({"text": "no title"}).status_code == 400
        assert post({**good, "alert_type": "fatal"}).status_code == 400
        assert post({**good, "date_happened": int(time.time()) - 19 * 3600}).status_code == 400
        accepted = post(good)
        assert accepted.status_code == 202
        assert accepted.json()["status"] == "ok" and accepted.json()["event"]["title"] == "Rejected"
    (line,) = path.read_text().splitlines()
    assert json.loads(line)["event"] == good
    assert len(receiver.refused) == 4
