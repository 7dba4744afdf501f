"""``logsieve aws-setup``: print what the AWS side of a source needs (CloudFormation or
Terraform), and the read-only IAM policy of a pull source."""

from __future__ import annotations

import re
from pathlib import Path

import click

from logsieve.config import ConfigError, load_config
from logsieve.sources.aws_setup import Setup, cloudformation, patterns_for, pull_policy, terraform

_NAME_RE = re.compile(r"[a-zA-Z0-9_.-]{1,64}")


def _common(function):  # type: ignore[no-untyped-def]
    options = [
        click.option("--log-group", "log_groups", multiple=True, required=True,
                     help="A log group to subscribe (repeat for more)."),
        click.option("--name", default="logsieve", show_default=True,
                     help="The delivery stream's or Kinesis stream's name."),
        click.option("--config", "config_path",
                     type=click.Path(dir_okay=False, path_type=Path),
                     help="The logsieve.toml whose [[alerts]] give the patterns."),
        click.option("--rules-patterns", is_flag=True,
                     help="Filter with the patterns of this server's alert rules on each "
                     "group, so only matching events leave AWS."),
        click.option("--terraform", "as_terraform", is_flag=True,
                     help="Print Terraform (HCL) instead of CloudFormation (JSON)."),
    ]  # fmt: skip
    for option in reversed(options):
        function = option(function)
    return function


def _setup(kind: str, name: str, log_groups: tuple[str, ...], rules_patterns: bool,
           config_path: Path | None, **extra: object) -> Setup:  # fmt: skip
    if not _NAME_RE.fullmatch(name):
        raise click.BadParameter("1-64 letters, digits, '_', '.' or '-'", param_hint="--name")
    patterns: dict[str, str] = {}
    if rules_patterns:
        try:
            rules = load_config(config_path).alerts
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from exc
        patterns, notes = patterns_for(log_groups, rules)
        for note in notes:
            click.echo(f"note: {note}", err=True)
    return Setup(kind, name, log_groups, patterns, **extra)  # type: ignore[arg-type]


@click.group("aws-setup")
def aws_setup() -> None:
    """Print the AWS side of a source: CloudFormation (default) or Terraform.

    Deploy it with `aws cloudformation deploy --capabilities CAPABILITY_IAM ...` or
    `terraform apply`; the roles it makes may do only what the delivery needs.
    """


@aws_setup.command("firehose")
@_common
@click.option("--url", required=True, help="This server's HTTPS URL with the source's path.")
def firehose(url: str, name: str, log_groups: tuple[str, ...], rules_patterns: bool,
             config_path: Path | None, as_terraform: bool) -> None:  # fmt: skip
    """A Firehose delivery stream to this server's firehose source, and the filters feeding it."""
    if not url.startswith("https://"):
        raise click.BadParameter(
            "Firehose delivers only to https:// URLs on port 443", param_hint="--url"
        )
    setup = _setup("firehose", name, log_groups, rules_patterns, config_path, url=url)
    click.echo(terraform(setup) if as_terraform else cloudformation(setup), nl=False)


@aws_setup.command("kinesis")
@_common
@click.option("--shards", type=click.IntRange(1, 500), default=1, show_default=True)
def kinesis(shards: int, name: str, log_groups: tuple[str, ...], rules_patterns: bool,
            config_path: Path | None, as_terraform: bool) -> None:  # fmt: skip
    """A Kinesis stream, the filters feeding it, and the kinesis source's read-only policy."""
    setup = _setup("kinesis", name, log_groups, rules_patterns, config_path, shards=shards)
    click.echo(terraform(setup) if as_terraform else cloudformation(setup), nl=False)


@aws_setup.command("pull-policy")
@click.option("--log-group", "log_groups", multiple=True, required=True,
              help="A log group name, or a prefix ending in * (repeat for more).")  # fmt: skip
@click.option("--region", default="*", show_default=True)
@click.option("--account-id", default="*", show_default=True)
def pull(log_groups: tuple[str, ...], region: str, account_id: str) -> None:
    """The read-only IAM policy a cloudwatch-logs (pull) source needs."""
    click.echo(pull_policy(log_groups, region, account_id), nl=False)
