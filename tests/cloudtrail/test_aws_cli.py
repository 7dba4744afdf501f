"""The aws CLI's ``cloudtrail`` commands on the server, as a user would type them."""

from __future__ import annotations

import os

import pytest

from tests.cloudtrail.conftest import ACCOUNT, OPS_KEY, OPS_SECRET, ROLE, group_arn
from tests.e2e.helpers import AwsCli
from tests.waiting import wait_for


@pytest.fixture(scope="module")
def aws(ct_server, tmp_path_factory: pytest.TempPathFactory) -> AwsCli:
    home = tmp_path_factory.mktemp("aws-home")
    (home / "config").write_text("")
    (home / "credentials").write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=OPS_KEY, AWS_SECRET_ACCESS_KEY=OPS_SECRET,
        AWS_CONFIG_FILE=str(home / "config"), AWS_SHARED_CREDENTIALS_FILE=str(home / "credentials"),
        AWS_EC2_METADATA_DISABLED="true", HOME=str(home), PYTHONIOENCODING="utf-8",
    )  # fmt: skip
    return AwsCli(ct_server, env, "cloudtrail")


def test_the_cli_sets_up_a_trail_and_looks_up_its_calls(aws: AwsCli, ops_logs) -> None:
    ops_logs.create_log_group(logGroupName="cli-trail")
    created = aws(
        "create-trail", "--name", "cli-trail", "--s3-bucket-name", "b",
        "--is-multi-region-trail", "--cloud-watch-logs-log-group-arn", group_arn("cli-trail"),
        "--cloud-watch-logs-role-arn", ROLE,
    )  # fmt: skip
    assert created["TrailARN"] == f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/cli-trail"
    aws("start-logging", "--name", "cli-trail")
    assert aws("get-trail-status", "--name", "cli-trail")["IsLogging"] is True
    assert [t["Name"] for t in aws("describe-trails")["trailList"]] == ["cli-trail"]
    found = wait_for(
        lambda: aws(
            "lookup-events",
            "--lookup-attributes",
            "AttributeKey=EventName,AttributeValue=StartLogging",
        )["Events"],
        what="StartLogging in lookup-events",
    )
    assert found[0]["Username"] == "ops"
    assert "TrailNotFoundException" in aws.error("get-trail", "--name", "nope-trail")
    aws("delete-trail", "--name", "cli-trail")


def test_the_cli_tags_a_trail(aws: AwsCli) -> None:
    arn = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/cli-tags"
    aws("create-trail", "--name", "cli-tags", "--s3-bucket-name", "b",
        "--tags-list", "Key=team,Value=sec")  # fmt: skip
    aws("add-tags", "--resource-id", arn, "--tags-list", "Key=env,Value=prod", "Key=bare")
    aws("remove-tags", "--resource-id", arn, "--tags-list", "Key=team")
    listed = aws("list-tags", "--resource-id-list", arn)["ResourceTagList"]
    assert listed == [
        {"ResourceId": arn, "TagsList": [{"Key": "bare"}, {"Key": "env", "Value": "prod"}]}
    ]
    assert "CloudTrailARNInvalidException" in aws.error(
        "add-tags", "--resource-id", "cli-tags", "--tags-list", "Key=a"
    )
    aws("delete-trail", "--name", "cli-tags")
