"""The AWS CLI (``aws sns ...``) as a subprocess against the real server.

The CLI runs with only the server's key pair and empty AWS config files, so nothing from the
developer's own AWS setup can leak in. Each CLI start costs about a second: setup that is not
under test goes through boto3.
"""

from __future__ import annotations

import os

import pytest

from tests.e2e.helpers import AwsCli
from tests.receivers import SmtpServer
from tests.server import ACCESS_KEY, SECRET_KEY, Server
from tests.sns.helpers import REGION, find_link, text_body


@pytest.fixture(scope="module")
def aws(sns_server: Server, tmp_path_factory: pytest.TempPathFactory) -> AwsCli:
    home = tmp_path_factory.mktemp("aws-home")
    (home / "config").write_text("")
    (home / "credentials").write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=SECRET_KEY,
        AWS_CONFIG_FILE=str(home / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        HOME=str(home),
        PYTHONIOENCODING="utf-8",
    )
    return AwsCli(sns_server, env, "sns")


def test_cli_topic_subscribe_publish(aws: AwsCli, sns, smtp: SmtpServer, address: str) -> None:
    created = aws("create-topic", "--name", "cli-alerts")
    arn = created["TopicArn"]
    assert arn == f"arn:aws:sns:{REGION}:123456789012:cli-alerts"
    subscribed = aws(
        "subscribe", "--topic-arn", arn, "--protocol", "email",
        "--notification-endpoint", address,
    )  # fmt: skip
    assert subscribed == {"SubscriptionArn": "pending confirmation"}
    (confirmation,) = smtp.wait_messages(address)
    token = find_link(text_body(confirmation), "ConfirmSubscription").rpartition("Token=")[2]
    confirmed = aws("confirm-subscription", "--topic-arn", arn, "--token", token)
    assert confirmed["SubscriptionArn"].startswith(arn + ":")

    published = aws(
        "publish", "--topic-arn", arn, "--subject", "CLI: 日本語の件名",
        "--message", "sent by aws sns publish",
        "--message-attributes", '{"env": {"DataType": "String", "StringValue": "prod"}}',
    )  # fmt: skip
    assert set(published) == {"MessageId"}
    _, mail = smtp.wait_messages(address, 2)
    assert mail["Subject"] == "CLI: 日本語の件名"
    assert mail["x-amz-sns-message-id"] == published["MessageId"]
    assert text_body(mail).startswith("sent by aws sns publish\n")

    listed = aws("list-subscriptions-by-topic", "--topic-arn", arn)
    assert [s["SubscriptionArn"] for s in listed["Subscriptions"]] == [confirmed["SubscriptionArn"]]
    attributes = aws("get-topic-attributes", "--topic-arn", arn)["Attributes"]
    assert attributes["SubscriptionsConfirmed"] == "1"
    assert arn in [t["TopicArn"] for t in aws("list-topics")["Topics"]]


def test_cli_errors(aws: AwsCli, topic) -> None:
    arn = topic()
    stderr = aws.error("publish", "--topic-arn", arn, "--message", "m", "--subject", "s" * 101)
    assert "(InvalidParameter)" in stderr
    assert "Invalid parameter: Subject" in stderr
    missing = f"arn:aws:sns:{REGION}:123456789012:no-such-topic-cli"
    stderr = aws.error("publish", "--topic-arn", missing, "--message", "m")
    assert "(NotFound)" in stderr
    assert "Topic does not exist" in stderr
