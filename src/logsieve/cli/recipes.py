"""``logsieve recipes list|add|apply``: ready alert rules, written into logsieve.toml in one
command, and monitoring recipes (metric filters, alarms, a topic) made through the API.

``recipes add`` takes both kinds of name: an alert-rule recipe is written into the config; a
monitoring recipe (``rejected-traffic-rate``, ``cis-monitoring``) is handed to ``recipes
apply`` with the same arguments, since what it creates lives on the server, not in a file.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any

import boto3
import click
from botocore.exceptions import BotoCoreError, ClientError

from logsieve.alerts.config import SEVERITIES, parse_alerts, parse_duration
from logsieve.alerts.monitoring import MONITORING, TOPIC_ARN
from logsieve.alerts.recipes import RECIPES, Recipe
from logsieve.alerts.rule_file import add_tables
from logsieve.durable import write_atomic
from logsieve.errors import ConfigError

from .admin_client import AdminClient, server_options

EXIT_ERROR = 2
_CONFIG_ENV = "LOGSIEVE_CONFIG"


class RecipeError(click.ClickException):
    exit_code = EXIT_ERROR


@click.group("recipes")
def recipes() -> None:
    """Ready alert rules for Client VPN, CloudTrail and VPC Flow Logs.

    \b
    Examples:
      logsieve recipes list
      logsieve recipes add vpn-connections --log-group /aws/clientvpn --channel slack
      logsieve recipes add iam-user-activity --log-group trail --channel email --user alice
      logsieve recipes add rejected-traffic --log-group vpc-flow --channel datadog
      logsieve recipes add rejected-traffic-rate --log-group vpc-flow --email oncall@example.com
    """


def _default_text(default: Any) -> str:
    if isinstance(default, bool):
        return "on" if default else "off"
    if default in (None, (), ""):
        return ""
    return f" (default {default})"


@recipes.command("list")
def list_recipes() -> None:
    """List the recipes with their options."""
    for recipe in RECIPES.values():
        click.echo(click.style(recipe.name, bold=True))
        click.echo(f"  {recipe.summary}")
        click.echo("  options: --log-group G (required), --channel C (required, repeatable),")
        click.echo(f"           --name NAME (default {recipe.name})")
        for option in recipe.options:
            flag = option.flag
            if option.kind == "flag":
                flag = f"{option.flag}/--no-{option.flag[2:]}" if option.default else option.flag
                default = f" (default {_default_text(option.default)})"
            else:
                flag = f"{option.flag} {option.metavar}"
                default = _default_text(option.default)
            click.echo(f"           {flag}: {option.help}{default}")
        click.echo(f"  example: {recipe.example}")
        click.echo()
    for monitoring in MONITORING.values():
        click.echo(click.style(monitoring.name, bold=True) + "  (made through the API)")
        click.echo(f"  {monitoring.summary}")
        click.echo("  options: --log-group G (required), --email ADDRESS (repeatable), --topic,")
        click.echo("           --namespace, --dry-run (print the aws CLI commands instead)")
        if monitoring.name == "rejected-traffic-rate":
            click.echo("           --threshold N (default 100), --period SECONDS (default 60)")
        click.echo(
            f"  example: logsieve recipes add {monitoring.name} --log-group G "
            "--email security@example.com"
        )
        click.echo()


# --- add ------------------------------------------------------------------------------------------


def _config_path(given: Path | None) -> Path:
    if given is not None:
        return given
    named = os.environ.get(_CONFIG_ENV, "")
    return Path(named) if named else Path("logsieve.toml")


def _options(recipe: Recipe, given: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments for the recipe from the flags the user gave; refuse the others."""
    accepted = {option.name: option for option in recipe.options}
    kwargs: dict[str, Any] = {}
    for name, value in given.items():
        if value is None or value == () or (value is False and name not in accepted):
            continue  # not given (click reports an unused flag as False)
        if name not in accepted:
            flags = ", ".join(option.flag for option in recipe.options)
            flag = {"users": "--user", "ports": "--port"}.get(name, "--" + name.replace("_", "-"))
            raise click.UsageError(
                f"{flag} does not apply to {recipe.name}; its options are {flags}"
            )
        option = accepted[name]
        if option.kind == "duration":
            try:
                parse_duration(value)
            except ValueError as exc:
                raise click.UsageError(f"{option.flag} {exc}") from None
        if name == "flow_format" and isinstance(value, str) and value.startswith("@"):
            try:
                value = Path(value[1:]).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise RecipeError(f"Cannot read {value[1:]}: {exc.strerror}") from exc
        kwargs[name] = list(value) if isinstance(value, tuple) else value
    return kwargs


def _declared_channels(document: dict[str, Any]) -> set[str]:
    channels = document.get("channels")
    if not isinstance(channels, list):
        return set()
    return {c.get("name") for c in channels if isinstance(c, dict) and c.get("name")}


def _write(path: Path, text: str) -> None:
    """All or nothing, keeping the config's permissions (``write_atomic`` fsyncs too)."""
    write_atomic(path, text, mode=path.stat().st_mode & 0o777 if path.exists() else 0o644)


def _check_whole_file(path: Path, text: str) -> None:
    """Refuse to write a file logsieve would not load."""
    from logsieve.sections import load_config

    temp = path.with_name(f".{path.name}.{os.getpid()}.check.toml")
    try:
        temp.write_text(text, encoding="utf-8")
        load_config(temp, environ={})
    except ConfigError as exc:
        raise RecipeError(f"not written: {str(exc).replace(str(temp), str(path))}") from exc
    finally:
        temp.unlink(missing_ok=True)


class _AddCommand(click.Command):
    """``recipes add``: a monitoring recipe's name hands the arguments to ``recipes apply``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] in MONITORING:
            ctx.meta["recipes.apply"] = True
            return apply_recipe.parse_args(ctx, args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        if ctx.meta.get("recipes.apply"):
            return apply_recipe.invoke(ctx)
        return super().invoke(ctx)


@recipes.command("add", cls=_AddCommand)
@click.argument(
    "recipe_name", metavar="NAME", type=click.Choice(sorted(RECIPES) + sorted(MONITORING))
)
@click.option(
    "--log-group",
    "log_groups",
    multiple=True,
    required=True,
    help="Log group the records are delivered to (repeatable).",
)
@click.option(
    "--channel",
    "channels",
    multiple=True,
    required=True,
    help="Channel name from a [[channels]] table (repeatable).",
)
@click.option("--name", "rule_name", help="Rule name (default: the recipe's name).")
@click.option("--timezone", help="IANA time zone for times in messages (default UTC).")
@click.option("--severity", type=click.Choice(SEVERITIES), help="Severity of the messages.")
@click.option("--user", "users", multiple=True, help="iam-user-activity: IAM user (repeatable).")
@click.option(
    "--write-only", is_flag=True, default=None, help="iam-user-activity: leave out read-only calls."
)
@click.option(
    "--console-login/--no-console-login",
    default=None,
    help="iam-user-activity: include console sign-ins (default on).",
)
@click.option("--flow-format", help="rejected-traffic: the custom LogFormat, or @FILE.")
@click.option(
    "--port",
    "ports",
    multiple=True,
    type=click.IntRange(0, 65535),
    help="rejected-traffic: only this destination port (repeatable).",
)
@click.option("--dedup-window", help="Send the same thing at most once per (e.g. 1h, 1d).")
@click.option("--digest-window", help="rejected-traffic: summarise a source's rejects over.")
@click.option(
    "--failed-threshold",
    type=click.IntRange(min=0),
    help="vpn-connections: failed attempts from one IP that alert (0: off).",
)
@click.option("--failed-window", help="vpn-connections: ... within this long (e.g. 10m).")
@click.option(
    "--scan-ports",
    type=click.IntRange(min=0),
    help="rejected-traffic: distinct ports that make a scan (0: off).",
)
@click.option("--scan-window", help="rejected-traffic: ... within this long (e.g. 10m).")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The logsieve.toml to edit (default: $LOGSIEVE_CONFIG, else ./logsieve.toml; "
    "created if missing).",
)
@click.option("--replace", is_flag=True, help="Overwrite rules of the same name.")
@click.option("--dry-run", is_flag=True, help="Print the TOML instead of writing it.")
def add_recipe(
    recipe_name: str,
    log_groups: tuple[str, ...],
    channels: tuple[str, ...],
    rule_name: str | None,
    config_path: Path | None,
    replace: bool,
    dry_run: bool,
    **options: Any,
) -> None:
    """Add the recipe NAME to logsieve.toml as [[alerts]] rules.

    Your file's comments and layout are kept; the new rules carry their templates in full,
    so you can read and edit what the messages say. A rule of the same name is not
    overwritten unless you pass --replace.

    The monitoring recipes rejected-traffic-rate and cis-monitoring are made on the server
    instead, through its API (the same as `logsieve recipes apply NAME`, with its options:
    --log-group, --email, --topic, --namespace, --threshold, --period, --dry-run and the
    server options); `logsieve export cloudformation|terraform` then writes them for AWS.

    \b
    Examples:
      logsieve recipes add vpn-connections --log-group /aws/clientvpn --channel slack \\
        --timezone Europe/Paris --failed-threshold 5 --failed-window 10m
      logsieve recipes add iam-user-activity --log-group aws-cloudtrail-logs \\
        --channel email --user alice --user ops-admin --write-only
      logsieve recipes add rejected-traffic --log-group vpc-flow-logs --channel datadog \\
        --flow-format @flow-format.txt --port 22 --port 23
      logsieve recipes add rejected-traffic-rate --log-group vpc-flow-logs \\
        --email oncall@example.com --threshold 100
    """
    recipe = RECIPES[recipe_name]
    kwargs = _options(recipe, options)
    if rule_name:
        kwargs["name"] = rule_name
    try:
        tables = recipe.build(list(log_groups), list(channels), **kwargs)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    path = _config_path(config_path)
    try:
        parse_alerts(path, tables)
    except ConfigError as exc:
        raise RecipeError(str(exc)) from exc
    comment = f"logsieve recipes add {recipe.name}"
    try:
        text = add_tables(path, tables, replace, comment)
    except ConfigError as exc:
        raise RecipeError(str(exc)) from exc
    if dry_run:
        click.echo(text, nl=False)
        return
    _check_whole_file(path, text)
    _write(path, text)
    plural = "" if len(tables) == 1 else "s"
    click.echo(f"Added {len(tables)} alert rule{plural} to {path}:")
    width = max(len(t["name"]) for t in tables)
    for table in tables:
        click.echo(f"  {table['name']:<{width}}  {table.get('description', '')}")
    declared = _declared_channels(tomllib.loads(text))
    missing = [c for c in channels if c not in declared]
    if missing:
        click.echo(
            f"Channel{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"{'are' if len(missing) > 1 else 'is'} not declared in {path} yet: add a "
            f'[[channels]] table with name = "{missing[0]}" before starting the server.'
        )
    config_flag = "" if path == Path("logsieve.toml") else f" --config {path}"
    click.echo("Try it on sample events (nothing is sent):")
    click.echo(f"  logsieve alerts test {tables[0]['name']} EVENTS_FILE{config_flag}")
    click.echo("Then restart `logsieve serve` to load the rules.")


# --- apply: monitoring recipes made through the API ----------------------------------------


@recipes.command("apply")
@click.argument("recipe_name", metavar="NAME", type=click.Choice(sorted(MONITORING)))
@click.option("--log-group", required=True, help="Log group the records are delivered to.")
@click.option(
    "--email", "emails", multiple=True, help="Subscribe this address to the topic (repeatable)."
)
@click.option("--topic", help="SNS topic name (default: the recipe's).")
@click.option("--namespace", help="Metric namespace (default: the recipe's).")
@click.option(
    "--threshold", type=float, help="rejected-traffic-rate: rejected flows per period that alarm."
)
@click.option(
    "--period", type=click.IntRange(min=10), help="rejected-traffic-rate: seconds per period."
)
@click.option("--dry-run", is_flag=True, help="Print the aws CLI commands instead.")
@server_options
def apply_recipe(
    recipe_name: str, log_group: str, emails: tuple[str, ...], dry_run: bool,
    endpoint_url: str | None, config_path: Path | None, data_dir: Path | None,
    **options: Any,
) -> None:  # fmt: skip
    """Create the recipe NAME's metric filters, alarms, topic and subscriptions on the server
    through its API, exactly as the aws CLI or boto3 would (--dry-run prints those aws CLI
    commands, to run against real AWS).

    \b
    Examples:
      logsieve recipes apply cis-monitoring --log-group aws-cloudtrail-logs --email sec@example.com
      logsieve recipes apply rejected-traffic-rate --log-group vpc-flow-logs \\
        --email oncall@example.com --threshold 100 --dry-run
    """
    recipe = MONITORING[recipe_name]
    given = {k: v for k, v in options.items() if v is not None}
    if recipe_name != "rejected-traffic-rate" and {"threshold", "period"} & given.keys():
        raise click.UsageError("--threshold and --period apply to rejected-traffic-rate only")
    calls = recipe.build(log_group, list(emails), **given)
    if dry_run:
        click.echo("\n".join(call.cli() for call in calls))
        return
    admin = AdminClient(endpoint_url, config_path, data_dir)
    clients: dict[str, Any] = {}
    topic_arn = ""
    for call in calls:
        if call.service not in clients:
            clients[call.service] = boto3.client(
                call.service,
                endpoint_url=admin.endpoint,
                region_name=admin.region,
                aws_access_key_id=admin.credentials.access_key,
                aws_secret_access_key=admin.credentials.secret_key,
            )
        params = json.loads(json.dumps(call.params).replace(TOPIC_ARN, topic_arn))
        try:
            answer = getattr(clients[call.service], call.method)(**params)
        except (ClientError, BotoCoreError) as exc:
            raise RecipeError(f"{call.service} {call.method} failed: {exc}") from exc
        topic_arn = answer.get("TopicArn", topic_arn)
    alarms = sum(call.method == "put_metric_alarm" for call in calls)
    filters = sum(call.method == "put_metric_filter" for call in calls)
    click.echo(
        f"Created {filters} metric filter{'s' if filters != 1 else ''} on {log_group}, "
        f"{alarms} alarm{'s' if alarms != 1 else ''} and topic {topic_arn}."
    )
    if emails:
        click.echo("Each email address must confirm its subscription (the link in the email).")
    click.echo("Watch them with `logsieve alarms`.")
