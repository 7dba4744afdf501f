"""``logsieve alarms``: every metric alarm's state, why, and since when."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import boto3
import click
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .admin_client import AdminClient, server_options


def _client(admin: AdminClient) -> Any:
    """A CloudWatch client for the server, signed with the operator's key pair."""
    return boto3.client(
        "cloudwatch",
        endpoint_url=admin.endpoint,
        region_name=admin.region,
        aws_access_key_id=admin.credentials.access_key,
        aws_secret_access_key=admin.credentials.secret_key,
        config=Config(retries={"max_attempts": 2, "mode": "standard"}),
    )


def _alarms(client: Any, prefix: str | None, state: str | None) -> list[dict[str, Any]]:
    params: dict[str, Any] = {}
    if prefix:
        params["AlarmNamePrefix"] = prefix
    if state:
        params["StateValue"] = state
    found: list[dict[str, Any]] = []
    for page in client.get_paginator("describe_alarms").paginate(**params):
        found += page["MetricAlarms"]
    return found


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _summary(alarm: dict[str, Any]) -> dict[str, Any]:
    out = {
        "name": alarm["AlarmName"],
        "state": alarm["StateValue"],
        "reason": alarm["StateReason"],
        "lastChange": _iso(alarm["StateTransitionedTimestamp"]),
        "lastUpdate": _iso(alarm["StateUpdatedTimestamp"]),
        "actionsEnabled": alarm["ActionsEnabled"],
        "arn": alarm["AlarmArn"],
    }
    if "StateReasonData" in alarm:
        out["reasonData"] = json.loads(alarm["StateReasonData"])
    return out


@click.command("alarms")
@server_options
@click.option("--prefix", help="Only alarms whose names start with this.")
@click.option(
    "--state",
    type=click.Choice(["OK", "ALARM", "INSUFFICIENT_DATA"]),
    help="Only alarms in this state.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the alarms as JSON.")
def alarms(
    endpoint_url: str | None, config_path: Path | None, data_dir: Path | None,
    prefix: str | None, state: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Show every metric alarm: its state, the reason, and when the state last changed."""
    admin = AdminClient(endpoint_url, config_path, data_dir)
    try:
        found = [_summary(a) for a in _alarms(_client(admin), prefix, state)]
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise click.ClickException(f"{error.get('Code')}: {error.get('Message')}") from exc
    except BotoCoreError as exc:
        raise click.ClickException(
            f"cannot reach logsieve at {admin.endpoint} ({exc}); is `logsieve serve` "
            "running? Use --endpoint-url to point at it."
        ) from exc
    if as_json:
        click.echo(json.dumps({"alarms": found}, indent=2, ensure_ascii=False))
        return
    if not found:
        click.echo("No alarms. Create one with PutMetricAlarm (aws cloudwatch put-metric-alarm).")
        return
    width = max(len(a["name"]) for a in found)
    click.echo(f"{'ALARM'.ljust(width)}  {'STATE'.ljust(17)}  {'SINCE'.ljust(20)}  REASON")
    for a in found:
        click.echo(
            f"{a['name'].ljust(width)}  {a['state'].ljust(17)}  {a['lastChange'].ljust(20)}  "
            f"{a['reason']}"
        )
