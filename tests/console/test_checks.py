"""Checks page: ``logsieve check``'s posture checks run against this server's own API (its
VPCs, Client VPN endpoints, trails), shown pass/fail with the fix. The app serves a real port
(uvicorn in a thread, as ``logsieve serve`` would) since the checks call it over HTTP with
boto3; the page is asked through a TestClient on the same app."""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from starlette.testclient import TestClient

from logsieve.app import create_app
from tests.console.conftest import ConsoleClient, console_config, csrf_of, post_login
from tests.server import ACCESS_KEY, SECRET_KEY, free_port
from tests.waiting import wait_for

ROLE = "arn:aws:iam::123456789012:role/flow-logs"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    port = free_port()
    config = console_config(tmp_path_factory.mktemp("console-checks"))
    config = type(config)(**{**config.__dict__, "port": port})
    app = create_app(config)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, 60, "the app serving its port")
    yield app, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(30)


def _result(text: str, check: str) -> str:
    found = re.search(rf'<tr data-check="{check}"[^>]*>(.*?)</tr>', text, re.S)
    assert found, text
    return found[0]


def test_checks_run_against_this_server_and_a_fix_turns_a_failure_green(
    served: tuple[Any, str],
) -> None:
    import boto3

    app, url = served
    console = ConsoleClient(app, base_url=url)  # no lifespan here: uvicorn runs it
    console.csrf = csrf_of(post_login(console, url, follow=True).text)
    first = html.unescape(console.get("/console/checks").text)
    vpc = _result(first, "LS-VPC-1")
    assert 'data-status="fail"' in vpc
    assert "aws ec2 create-flow-logs" in first  # the fix, as `logsieve check` words it
    assert re.search(r"\d+ passed, \d+ failed, \d+ skipped", first)

    ec2 = boto3.client("ec2", endpoint_url=url, region_name="us-east-1",
                       aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)  # fmt: skip
    logs = boto3.client("logs", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)  # fmt: skip
    logs.create_log_group(logGroupName="/vpc/flows")
    logs.put_retention_policy(logGroupName="/vpc/flows", retentionInDays=30)
    for found in ec2.describe_vpcs()["Vpcs"]:
        ec2.create_flow_logs(ResourceIds=[found["VpcId"]], ResourceType="VPC",
                             TrafficType="ALL", LogGroupName="/vpc/flows",
                             DeliverLogsPermissionArn=ROLE)  # fmt: skip
    again = html.unescape(console.get("/console/checks").text)
    assert 'data-status="pass"' in _result(again, "LS-VPC-1")


def test_the_checks_page_needs_a_session(served: tuple[Any, str]) -> None:
    app, url = served
    anonymous = TestClient(app, base_url=url)
    answer = anonymous.get("/console/checks", follow_redirects=False)
    assert answer.status_code in (302, 303, 401)
