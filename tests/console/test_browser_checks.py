"""Checks in a real browser: the default VPC has no flow logs, so LS-VPC-1 fails with the fix
`logsieve check` prints; after creating them with boto3 a reload shows it passing."""

from __future__ import annotations

from typing import Any

from tests.console.conftest import ConsoleServer, screenshot
from tests.server import client

ROLE = "arn:aws:iam::123456789012:role/flow-logs"


def test_a_failing_check_shows_its_fix_and_passes_once_fixed(
    signed_in_page: Any, console_server: ConsoleServer
) -> None:
    page = signed_in_page
    page.goto(f"{console_server.url}/console/checks")
    row = page.locator("tr[data-check=LS-VPC-1]")
    assert row.get_attribute("data-status") == "fail"
    assert "aws ec2 create-flow-logs" in row.locator("pre.fix").text_content()
    screenshot(page, "checks")
    page.set_viewport_size({"width": 390, "height": 844})
    assert row.locator("pre.fix").is_visible()
    screenshot(page, "checks-phone")

    ec2, logs = client(console_server, "ec2"), client(console_server, "logs")  # type: ignore[arg-type]
    logs.create_log_group(logGroupName="/browser/flows")
    for vpc in ec2.describe_vpcs()["Vpcs"]:
        ec2.create_flow_logs(
            ResourceIds=[vpc["VpcId"]], ResourceType="VPC", TrafficType="ALL",
            LogGroupName="/browser/flows", DeliverLogsPermissionArn=ROLE,
        )  # fmt: skip
    page.reload()
    assert page.locator("tr[data-check=LS-VPC-1]").get_attribute("data-status") == "pass"
