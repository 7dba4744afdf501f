"""``logsieve decode``: turn a subscription delivery back into readable JSON."""

from __future__ import annotations

import sys
from typing import Any

import click
import orjson

from logsieve.formats.awslogs import EnvelopeError, decode_any

EXIT_ERROR = 2


class DecodeError(click.ClickException):
    exit_code = EXIT_ERROR


def _expanded(payload: dict[str, Any]) -> dict[str, Any]:
    """Messages that are JSON documents (CloudTrail, Client VPN) shown as objects."""
    for event in payload["logEvents"]:
        try:
            value = orjson.loads(event["message"])
        except orjson.JSONDecodeError:
            continue
        if isinstance(value, dict | list):
            event["message"] = value
    return payload


@click.command("decode")
@click.argument("source", default="-", type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--expand", is_flag=True, help="Show JSON messages (CloudTrail, Client VPN) as objects."
)
def decode(source: str, expand: bool) -> None:
    """Decode a CloudWatch Logs subscription delivery from SOURCE (a file, or - for stdin).

    Takes a Lambda event ({"awslogs": {"data": ...}}), a Lambda Kinesis or Firehose event,
    a bare base64 string or raw gzip bytes, and prints the payload (messageType, owner,
    logGroup, logStream, subscriptionFilters, logEvents) as indented JSON; several records
    print as a list.

    \b
    Examples:
      logsieve decode event.json
      aws kinesis get-records ... | jq -r '.Records[0].Data' | logsieve decode
    """
    try:
        data = sys.stdin.buffer.read() if source == "-" else open(source, "rb").read()  # noqa: SIM115
    except OSError as exc:
        raise DecodeError(f"Cannot read {source}: {exc.strerror}") from exc
    try:
        payloads = [p.to_dict() for p in decode_any(data.strip())]
    except EnvelopeError as exc:
        raise DecodeError(str(exc)) from exc
    if expand:
        payloads = [_expanded(p) for p in payloads]
    document = payloads[0] if len(payloads) == 1 else payloads
    click.echo(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())
