"""A transition's actions survive ``kill -9`` right after SetAlarmState returns: the email
arrives once after the restart, and nothing is left to send twice."""

from __future__ import annotations

from pathlib import Path

from tests.metrics import clients
from tests.receivers import SmtpServer
from tests.server import client
from tests.sns.helpers import admin_get, start_server, text_body
from tests.waiting import wait_for


def test_the_alarm_email_survives_a_crash_and_is_sent_once(tmp_path: Path) -> None:
    with SmtpServer() as smtp:
        server = start_server(tmp_path, smtp, "\n[sns]\nauto_confirm = true\n")
        try:
            sns = client(server, "sns")
            topic = sns.create_topic(Name="oncall")["TopicArn"]
            sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="oncall@example.com")
            cloudwatch = clients.cloudwatch(server)
            cloudwatch.put_metric_alarm(
                AlarmName="crash", Namespace="App", MetricName="Errors", Statistic="Sum",
                Period=60, EvaluationPeriods=1, Threshold=1.0,
                ComparisonOperator="GreaterThanThreshold", AlarmActions=[topic],
            )  # fmt: skip
            cloudwatch.set_alarm_state(AlarmName="crash", StateValue="ALARM", StateReason="boom")
            server.kill()
            server.start()
            (mail,) = smtp.wait_messages("oncall@example.com")
            assert 'because "boom"' in text_body(mail)

            def drained() -> bool:
                channels = admin_get(server, "notifications")["channels"]
                return all(c["pending"] == 0 for c in channels)

            wait_for(drained, what="an empty outbox")
            assert len(smtp.messages("oncall@example.com")) == 1
            history = cloudwatch.describe_alarm_history(AlarmName="crash", HistoryItemType="Action")
            assert len(history["AlarmHistoryItems"]) == 1
        finally:
            server.stop()
