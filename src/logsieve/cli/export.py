"""``logsieve export cloudformation|terraform``: what a server defines, for real AWS.

Reads the server through its AWS API (boto3, signed with the configured key pair, as
``logsieve metrics`` does), so the output is what any AWS client would see there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .admin_client import server_options

__all__ = ["export"]


def _inventory(options: dict[str, Any]) -> Any:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    from logsieve.export import read
    from logsieve.shipping.client import ShippingError, target_from_config

    try:
        target, _ = target_from_config(
            options["endpoint_url"], options["config_path"], options["data_dir"]
        )
    except ShippingError as exc:
        raise click.ClickException(str(exc)) from exc
    clients = [
        boto3.client(
            service, endpoint_url=target.endpoint_url, region_name=target.region,
            aws_access_key_id=target.access_key_id,
            aws_secret_access_key=target.secret_access_key,
            config=Config(retries={"max_attempts": 2, "mode": "standard"}),
        )
        for service in ("logs", "cloudwatch", "sns")
    ]  # fmt: skip
    try:
        inventory = read(*clients)
    except ClientError as exc:
        error = exc.response["Error"]
        raise click.ClickException(f"{error.get('Code')}: {error.get('Message')}") from exc
    except BotoCoreError as exc:
        raise click.ClickException(f"cannot reach the server: {exc}") from exc
    if not inventory:
        raise click.ClickException(
            f"nothing to export: {target.endpoint_url} has no log groups, SNS topics or alarms"
        )
    return inventory


def _write(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text)
        click.echo(f"Wrote {output}.", err=True)


@click.group("export")
def export() -> None:
    """Write what the server defines as CloudFormation or Terraform for real AWS.

    Log groups and retention, metric filters, CloudWatch alarms and their actions, SNS topics
    and subscriptions, subscription filters, and the Lambda permissions that let a filter, an
    alarm or a topic invoke a function. Destinations that are not exported (Lambda functions,
    streams) keep their ARNs.
    """


_output = click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)  # fmt: skip


@export.command("cloudformation")
@click.option("--format", "fmt", type=click.Choice(["json", "yaml"]), default="json",
              show_default=True, help="Template format.")  # fmt: skip
@_output
@server_options
def export_cloudformation(fmt: str, output: Path | None, **options: Any) -> None:
    """A CloudFormation template (JSON or YAML)."""
    from logsieve.export import cloudformation

    _write(cloudformation(_inventory(options), yaml_format=fmt == "yaml"), output)


@export.command("terraform")
@_output
@server_options
def export_terraform(output: Path | None, **options: Any) -> None:
    """Terraform (HCL) for the AWS provider."""
    from logsieve.export import terraform

    _write(terraform(_inventory(options)), output)
