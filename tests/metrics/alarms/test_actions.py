"""Alarm actions on the real server: on a transition (and only then) an SNS topic gets AWS's
alarm message and subject, an email subscriber a mail that reads like CloudWatch's, a Lambda
function the alarm event; each action is recorded in the alarm's history. The ticker runs on
the server's real clock."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from logsieve.cli import main
from tests.receivers import SmtpServer
from tests.server import ACCESS_KEY, SECRET_KEY, client
from tests.sns.helpers import function_arn, lambda_events, text_body
from tests.waiting import wait_for

SUBJECT = 'ALARM: "{}" in US East (N. Virginia)'


def subscribed_topic(sns: Any, protocol: str = "email") -> tuple[str, str]:
    arn = sns.create_topic(Name=f"alarms-{uuid.uuid4().hex[:8]}")["TopicArn"]
    address = f"oncall-{uuid.uuid4().hex[:8]}@example.com"
    sns.subscribe(TopicArn=arn, Protocol=protocol, Endpoint=address)
    return arn, address


def alarm(cloudwatch: Any, name: str, **overrides: Any) -> None:
    params = {
        "AlarmName": name, "Namespace": "App", "MetricName": "Errors", "Statistic": "Sum",
        "Dimensions": [{"Name": "Service", "Value": "api"}],
        "Period": 60, "EvaluationPeriods": 1, "Threshold": 5.0,
        "ComparisonOperator": "GreaterThanThreshold",
    }  # fmt: skip
    cloudwatch.put_metric_alarm(**{**params, **overrides})


def test_a_transition_emails_the_topic_like_aws(
    alarm_client: Any, sns: Any, smtp: SmtpServer, name: str
) -> None:
    topic, address = subscribed_topic(sns)
    alarm(alarm_client, name, AlarmActions=[topic], AlarmDescription="errors on the api")
    alarm_client.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="testing")
    (mail,) = smtp.wait_messages(address)
    assert mail["Subject"] == SUBJECT.format(name)
    body = text_body(mail)
    assert body.startswith(
        f'You are receiving this email because your Amazon CloudWatch Alarm "{name}" in the '
        'US East (N. Virginia) region has entered the ALARM state, because "testing" at "'
    )
    assert "- State Change:               INSUFFICIENT_DATA -> ALARM" in body
    assert "- The alarm is in the ALARM state when the metric is GreaterThanThreshold 5.0 for " \
        "at least 1 of the last 1 period(s) of 60 seconds." in body  # fmt: skip
    assert "- Dimensions:                          [Service = api]" in body
    assert f"- ALARM: [{topic}]" in body
    items = wait_for(
        lambda: alarm_client.describe_alarm_history(AlarmName=name, HistoryItemType="Action")[
            "AlarmHistoryItems"
        ],
        what="the action's history item",
    )
    assert items[0]["HistorySummary"] == f"Successfully executed action {topic}"
    assert json.loads(items[0]["HistoryData"]) == {
        "actionState": "Succeeded", "notificationResource": topic,
    }  # fmt: skip


def test_the_sns_message_is_aws_alarm_json(
    alarm_client: Any, sns: Any, smtp: SmtpServer, name: str
) -> None:
    topic, address = subscribed_topic(sns, "email-json")
    alarm(alarm_client, name, OKActions=[topic], DatapointsToAlarm=1)
    alarm_client.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="all good")
    (mail,) = smtp.wait_messages(address)
    envelope = json.loads(text_body(mail))
    assert envelope["Subject"] == f'OK: "{name}" in US East (N. Virginia)'
    message = json.loads(envelope["Message"])
    assert list(message) == [
        "AlarmName", "AlarmDescription", "AWSAccountId", "AlarmConfigurationUpdatedTimestamp",
        "NewStateValue", "NewStateReason", "StateChangeTime", "Region", "AlarmArn",
        "OldStateValue", "OKActions", "AlarmActions", "InsufficientDataActions", "Trigger",
    ]  # fmt: skip
    assert message["AlarmDescription"] is None
    assert (message["NewStateValue"], message["OldStateValue"]) == ("OK", "INSUFFICIENT_DATA")
    assert message["Region"] == "US East (N. Virginia)"
    assert message["Trigger"] == {
        "MetricName": "Errors", "Namespace": "App", "StatisticType": "Statistic",
        "Statistic": "SUM", "Unit": None, "Dimensions": [{"value": "api", "name": "Service"}],
        "Period": 60, "EvaluationPeriods": 1, "DatapointsToAlarm": 1,
        "ComparisonOperator": "GreaterThanThreshold", "Threshold": 5.0,
        "TreatMissingData": "missing", "EvaluateLowSampleCountPercentile": "",
    }  # fmt: skip
    assert message["StateChangeTime"].endswith("+0000")


def test_actions_run_on_transitions_only_and_not_when_disabled(
    alarm_client: Any, sns: Any, smtp: SmtpServer, name: str
) -> None:
    topic, address = subscribed_topic(sns)
    alarm(alarm_client, name, AlarmActions=[topic], OKActions=[topic])
    alarm_client.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="one")
    alarm_client.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="same state")
    alarm_client.disable_alarm_actions(AlarmNames=[name])
    alarm_client.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="disabled")
    alarm_client.enable_alarm_actions(AlarmNames=[name])
    alarm_client.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="two")
    smtp.wait_messages(address, count=2)
    history = alarm_client.describe_alarm_history(AlarmName=name, ScanBy="TimestampAscending")
    kinds = [item["HistoryItemType"] for item in history["AlarmHistoryItems"]]
    summaries = [
        item["HistorySummary"]
        for item in history["AlarmHistoryItems"]
        if item["HistoryItemType"] == "StateUpdate"
    ]
    assert summaries == [  # the repeat is recorded (as on AWS) but is no transition
        "Alarm updated from INSUFFICIENT_DATA to ALARM",
        "Alarm updated from ALARM to ALARM",
        "Alarm updated from ALARM to OK",
        "Alarm updated from OK to ALARM",
    ]
    assert kinds.count("Action") <= 2
    mails = smtp.wait_messages(address, count=2)
    assert [m["Subject"] for m in mails] == [SUBJECT.format(name)] * 2
    reasons = [text_body(m).split('because "')[1].split('"')[0] for m in mails]
    assert sorted(reasons) == ["one", "two"]


def test_a_lambda_action_gets_the_alarm_event(
    alarm_client: Any, actions_root: Path, name: str
) -> None:
    function = function_arn("sns-recorder")
    alarm(alarm_client, name, AlarmActions=[function], AlarmDescription="to lambda")
    alarm_client.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="for lambda")
    events = wait_for(
        lambda: [
            e
            for e in lambda_events(actions_root)
            if e.get("alarmData", {}).get("alarmName") == name
        ],
        what="the alarm event",
    )
    event = events[0]
    assert list(event) == ["source", "alarmArn", "accountId", "time", "region", "alarmData"]
    assert event["source"] == "aws.cloudwatch" and event["region"] == "us-east-1"
    data = event["alarmData"]
    assert data["state"]["value"] == "ALARM" and data["state"]["reason"] == "for lambda"
    assert data["previousState"]["value"] == "INSUFFICIENT_DATA"
    assert data["configuration"]["description"] == "to lambda"
    (metric,) = data["configuration"]["metrics"]
    assert metric["metricStat"] == {
        "metric": {"namespace": "App", "name": "Errors", "dimensions": {"Service": "api"}},
        "period": 60, "stat": "Sum",
    }  # fmt: skip
    assert metric["returnData"] is True


def test_the_server_evaluates_high_resolution_alarms_on_its_clock(
    alarm_client: Any, sns: Any, smtp: SmtpServer, name: str
) -> None:
    topic, address = subscribed_topic(sns)
    alarm(alarm_client, name, Period=10, TreatMissingData="breaching", AlarmActions=[topic])
    (mail,) = smtp.wait_messages(address, timeout=60)
    assert mail["Subject"] == SUBJECT.format(name)
    state = alarm_client.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    assert state["StateValue"] == "ALARM"
    assert state["StateReason"] == (
        "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint "
        "was treated as [Breaching]."
    )
    assert json.loads(state["StateReasonData"])["period"] == 10


def test_put_metric_data_breaches_and_the_email_arrives(
    alarm_client: Any, sns: Any, smtp: SmtpServer, name: str
) -> None:
    topic, address = subscribed_topic(sns)
    dims = [{"Name": "Service", "Value": name}]
    alarm(alarm_client, name, Period=10, Dimensions=dims, AlarmActions=[topic],
          DatapointsToAlarm=1)  # fmt: skip
    alarm_client.put_metric_data(
        Namespace="App",
        MetricData=[
            {"MetricName": "Errors", "Dimensions": dims, "Value": v, "StorageResolution": 1}
            for v in (4.0, 3.0)
        ],
    )
    (mail,) = smtp.wait_messages(address, timeout=60)
    assert mail["Subject"] == SUBJECT.format(name)
    state = alarm_client.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    assert state["StateValue"] == "ALARM"
    assert state["StateReason"].startswith(
        "Threshold Crossed: 1 out of the last 1 datapoints [7.0 ("
    )
    assert state["StateReason"].endswith(
        "was greater than the threshold (5.0) (minimum 1 datapoint for "
        "INSUFFICIENT_DATA -> ALARM transition)."
    )
    data = json.loads(state["StateReasonData"])
    assert data["recentDatapoints"] == [7.0]
    assert data["evaluatedDatapoints"][0]["sampleCount"] == 2.0
    assert f'because "{state["StateReason"]}"' in text_body(mail)


def test_flow_logs_to_reject_count_to_alarm_to_email(
    actions_server: Any, alarm_client: Any, smtp: SmtpServer, name: str
) -> None:
    """The issue's flow: VPC Flow Logs -> a REJECT-counting metric filter (the
    rejected-traffic-rate recipe) -> an alarm on the count -> the on-call email."""
    logs = client(actions_server)
    group = f"/vpc/{name}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="eni-1")
    address = f"{name}@example.com"
    result = CliRunner().invoke(
        main,
        ["recipes", "apply", "rejected-traffic-rate", "--log-group", group, "--email", address,
         "--topic", name, "--namespace", name, "--endpoint-url", actions_server.url],
        env={"LOGSIEVE_ACCESS_KEY_ID": ACCESS_KEY, "LOGSIEVE_SECRET_ACCESS_KEY": SECRET_KEY},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (recipe_alarm,) = alarm_client.describe_alarms(AlarmNames=["rejected-traffic-rate"])[
        "MetricAlarms"
    ]
    topic = next(a for a in recipe_alarm["AlarmActions"] if a.endswith(f":{name}"))
    # The same alarm on 10-second periods, so the test does not wait for minutes to close.
    alarm(alarm_client, name, Namespace=name, MetricName="RejectedFlows", Dimensions=[],
          Period=10, EvaluationPeriods=6, DatapointsToAlarm=1, Threshold=2.0,
          TreatMissingData="notBreaching", AlarmActions=[topic])  # fmt: skip
    now = int(time.time() * 1000)
    flows = [
        f"2 123456789010 eni-1 203.0.113.{i} 172.31.16.139 4444 22 6 1 40 1 2 {action} OK"
        for i, action in enumerate(["REJECT", "REJECT", "ACCEPT", "REJECT"])
    ]
    logs.put_log_events(
        logGroupName=group, logStreamName="eni-1",
        logEvents=[{"timestamp": now, "message": line} for line in flows],
    )  # fmt: skip
    mails = smtp.wait_messages(address, timeout=90)
    assert mails[0]["Subject"] == SUBJECT.format(name)
    state = alarm_client.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    assert state["StateValue"] == "ALARM"
    assert "[3.0 (" in state["StateReason"]
