"""``logsieve metrics``: the CloudWatch metrics a server holds, listed or charted.

A client of the server's own CloudWatch API (signed with the configured key pair), so what it
shows is exactly what boto3 or the aws CLI would read.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from typing import Any

import click

from .admin_client import server_options

__all__ = ["metrics"]

_DURATION = re.compile(r"(\d+)([smhd])\Z")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_BARS = " ▁▂▃▄▅▆▇█"
STATISTICS = ("Sum", "Average", "SampleCount", "Minimum", "Maximum")


def _client(options: dict[str, Any]) -> Any:
    import boto3
    from botocore.config import Config

    from logsieve.shipping.client import ShippingError, target_from_config

    try:
        target, _ = target_from_config(
            options["endpoint_url"], options["config_path"], options["data_dir"]
        )
    except ShippingError as exc:
        raise click.ClickException(str(exc)) from exc
    return boto3.client(
        "cloudwatch",
        endpoint_url=target.endpoint_url,
        region_name=target.region,
        aws_access_key_id=target.access_key_id,
        aws_secret_access_key=target.secret_access_key,
        config=Config(retries={"max_attempts": 2, "mode": "standard"}),
    )


def _call(function: Any, **kwargs: Any) -> Any:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return function(**kwargs)
    except ClientError as exc:
        error = exc.response["Error"]
        raise click.ClickException(f"{error.get('Code')}: {error.get('Message')}") from exc
    except BotoCoreError as exc:
        raise click.ClickException(f"cannot reach the server: {exc}") from exc


def _duration(text: str) -> int:
    found = _DURATION.match(text.strip())
    if found is None:
        raise click.BadParameter(f"{text!r} is not a duration like 90s, 30m, 3h or 2d")
    return int(found.group(1)) * _SECONDS[found.group(2)]


def _dimensions(pairs: tuple[str, ...]) -> list[dict[str, str]]:
    out = []
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{pair!r} is not NAME=VALUE", param_hint="--dimension")
        out.append({"Name": name, "Value": value})
    return out


@click.group()
def metrics() -> None:
    """CloudWatch metrics on the server (PutMetricData, metric filters, EMF)."""


@metrics.command("list")
@click.option("--namespace", help="Only this namespace.")
@click.option("--name", "metric_name", help="Only this metric name.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@server_options
def list_metrics(
    namespace: str | None, metric_name: str | None, as_json: bool, **options: Any
) -> None:
    """Every metric with data, with its dimensions."""
    client = _client(options)
    kwargs: dict[str, Any] = {}
    if namespace:
        kwargs["Namespace"] = namespace
    if metric_name:
        kwargs["MetricName"] = metric_name
    found: list[dict[str, Any]] = []
    while True:
        page = _call(client.list_metrics, **kwargs)
        found += page["Metrics"]
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    if not found:
        click.echo("no metrics")
        return
    for metric in found:
        dims = ", ".join(f"{d['Name']}={d['Value']}" for d in metric["Dimensions"])
        click.echo(
            f"{metric['Namespace']}  {metric['MetricName']}" + (f"  [{dims}]" if dims else "")
        )


@metrics.command("show")
@click.argument("namespace")
@click.argument("metric_name")
@click.option("--dimension", "dimension_pairs", multiple=True, help="NAME=VALUE (repeatable).")
@click.option("--since", default="3h", show_default=True, help="How far back: 30m, 3h, 2d.")
@click.option("--period", default=60, show_default=True, help="Seconds per datapoint.")
@click.option("--stat", type=click.Choice(STATISTICS), default="Sum", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the datapoints as JSON.")
@server_options
def show(
    namespace: str, metric_name: str, dimension_pairs: tuple[str, ...], since: str,
    period: int, stat: str, as_json: bool, **options: Any,
) -> None:  # fmt: skip
    """One metric over a time range, as a chart in the terminal."""
    client = _client(options)
    end = int(time.time()) // period * period + period
    start = end - _duration(since)
    answer = _call(
        client.get_metric_data,
        MetricDataQueries=[{
            "Id": "m",
            "MetricStat": {
                "Metric": {"Namespace": namespace, "MetricName": metric_name,
                           "Dimensions": _dimensions(dimension_pairs)},
                "Period": period, "Stat": stat,
            },
        }],
        StartTime=datetime.fromtimestamp(start, UTC), EndTime=datetime.fromtimestamp(end, UTC),
        ScanBy="TimestampAscending",
    )  # fmt: skip
    result = answer["MetricDataResults"][0]
    points = [
        (int(t.timestamp()), v) for t, v in zip(result["Timestamps"], result["Values"], strict=True)
    ]
    if as_json:
        click.echo(json.dumps([{"timestamp": t, "value": v} for t, v in points], indent=2))
        return
    click.echo(_chart(points, start, end, period, f"{namespace} {metric_name} ({stat})"))


def _chart(points: list[tuple[int, float]], start: int, end: int, period: int, title: str) -> str:
    """A one-line sparkline per period (blank where there is no data), with the scale."""
    if not points:
        return f"{title}: no datapoints in the range"
    values = dict(points)
    slots = list(range(start, end, period))[-120:]
    top = max(values.values())
    low = min(0.0, min(values.values()))
    span = (top - low) or 1.0
    line = "".join(
        _BARS[1 + round((values[t] - low) / span * (len(_BARS) - 2))] if t in values else " "
        for t in slots
    )
    first = datetime.fromtimestamp(slots[0], UTC).strftime("%Y-%m-%d %H:%M")
    last = datetime.fromtimestamp(slots[-1], UTC).strftime("%H:%M UTC")
    total = sum(values.values())
    return (
        f"{title}\n{line}\n{first} .. {last}   min {min(values.values()):g}  "
        f"max {top:g}  total {total:g}  points {len(points)}"
    )
