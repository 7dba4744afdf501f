"""``logsieve alerts list|test``: see the configured rules and what they would send."""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import click
import orjson

from logsieve.config import ConfigError
from logsieve.formats.awslogs import EnvelopeError, LogEvent, Payload, decode_any
from logsieve.sections import load_config

EXIT_SENT, EXIT_NOTHING, EXIT_ERROR = 0, 1, 2
_BASE64_RE = re.compile(rb"[A-Za-z0-9+/=\s]{16,}")
_LOG_EVENT_KEYS = ("timestamp", "ingestionTime", "logStreamName", "eventId", "id")


class AlertsError(click.ClickException):
    exit_code = EXIT_ERROR


def _config_option(function: Any) -> Any:
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help="The logsieve.toml to read (default: $LOGSIEVE_CONFIG, else ./logsieve.toml).",
    )(function)


def _rules(config_path: Path | None) -> tuple[Any, ...]:
    try:
        return tuple(load_config(config_path).alerts)
    except ConfigError as exc:
        raise AlertsError(str(exc)) from exc


@click.group("alerts")
def alerts() -> None:
    """Alert rules declared as [[alerts]] tables in logsieve.toml.

    \b
    Examples:
      logsieve alerts list
      logsieve alerts test vpn-connections samples/client-vpn-connections.jsonl
      logsieve recipes add vpn-connections --log-group /aws/clientvpn --channel slack
    """


# --- list ---------------------------------------------------------------------------------------


def _seconds(value: float | None) -> str:
    from logsieve.alerts.helpers import format_duration

    return format_duration(value) if value is not None else "-"


def _noise(rule: Any) -> list[str]:
    lines = []
    if rule.dedup_key:
        lines.append(f"dedup {rule.dedup_key} for {_seconds(rule.dedup_window)}")
    if rule.digest_window:
        group = f" per {rule.digest_group_by}" if rule.digest_group_by else ""
        lines.append(f"digest{group} every {_seconds(rule.digest_window)}")
    if rule.threshold:
        spec = rule.threshold
        group = f" per {spec.group_by}" if spec.group_by else ""
        lines.append(f"threshold {spec.count} matches{group} within {_seconds(spec.window)}")
    if rule.distinct:
        spec = rule.distinct
        group = f" per {spec.group_by}" if spec.group_by else ""
        lines.append(
            f"distinct {spec.count} values of {spec.key}{group} within {_seconds(spec.window)}"
        )
    return lines or ["every match"]


def _rule_json(rule: Any) -> dict[str, Any]:
    return {
        "name": rule.name,
        "description": rule.description,
        "log_groups": list(rule.log_groups),
        "pattern": rule.pattern,
        "channels": list(rule.channels),
        "severity": rule.severity,
        "timezone": rule.timezone,
        "mode": rule.mode,
        "noise": _noise(rule),
    }


@alerts.command("list")
@_config_option
@click.option("--json", "as_json", is_flag=True, help="Print the rules as JSON.")
def list_rules(config_path: Path | None, as_json: bool) -> None:
    """List the alert rules: log groups, pattern, channels and noise settings.

    \b
    Examples:
      logsieve alerts list
      logsieve alerts list --config /etc/logsieve/logsieve.toml --json
    """
    rules = _rules(config_path)
    if as_json:
        click.echo(orjson.dumps([_rule_json(r) for r in rules], option=orjson.OPT_INDENT_2))
        return
    if not rules:
        click.echo(
            "No alert rules. Add one with `logsieve recipes add NAME ...` "
            "(see `logsieve recipes list`) or an [[alerts]] table in logsieve.toml."
        )
        return
    for rule in rules:
        click.echo(click.style(rule.name, bold=True) + f"  ({rule.severity})")
        if rule.description:
            click.echo(f"  {rule.description}")
        click.echo(f"  log groups: {', '.join(rule.log_groups)}")
        click.echo(f"  pattern:    {rule.pattern or '(every event)'}")
        click.echo(f"  channels:   {', '.join(rule.channels)}")
        click.echo(f"  time zone:  {rule.timezone}")
        for number, line in enumerate(_noise(rule)):
            click.echo(f"  {'noise:' if number == 0 else '':<11} {line}")
        click.echo()


# --- test ---------------------------------------------------------------------------------------


def _read(source: str) -> bytes:
    try:
        if source == "-":
            return sys.stdin.buffer.read()
        with open(source, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise AlertsError(f"Cannot read {source}: {exc.strerror}") from exc


def _payloads(data: bytes) -> list[Payload] | None:
    """The awslogs payloads in ``data`` when it is a delivery (Lambda event, Kinesis/Firehose
    records, gzip, base64 or a decoded payload); None when it is plain log lines."""
    stripped = data.strip()
    looks_like_delivery = stripped[:2] == b"\x1f\x8b" or (
        _BASE64_RE.fullmatch(stripped) is not None and b"\n" not in stripped
    )
    if not looks_like_delivery and stripped[:1] == b"{":
        try:
            document = orjson.loads(stripped)
        except orjson.JSONDecodeError:
            return None
        looks_like_delivery = isinstance(document, dict) and (
            "awslogs" in document
            or "messageType" in document
            or any(
                isinstance(r, dict) and ("kinesis" in r or "data" in r)
                for r in (document.get("Records") or document.get("records") or [])
            )
        )
    if not looks_like_delivery:
        return None
    try:
        return decode_any(stripped)
    except EnvelopeError:
        return None


def _line_event(line: str, number: int) -> str | LogEvent:
    """A FilterLogEvents / export record ({"message": ..., "timestamp": ...}) or the line."""
    if line.startswith("{"):
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            return line
        if (
            isinstance(record, dict)
            and isinstance(record.get("message"), str)
            and any(key in record for key in _LOG_EVENT_KEYS)
        ):
            timestamp = record.get("timestamp")
            if isinstance(timestamp, int):
                event_id = str(record.get("eventId") or record.get("id") or f"line-{number}")
                return LogEvent(event_id, timestamp, record["message"])
            return record["message"]
    return line


def _events(data: bytes) -> tuple[list[str | LogEvent], str | None, str | None]:
    payloads = _payloads(data)
    if payloads is not None:
        events: list[str | LogEvent] = [e for p in payloads for e in p.log_events]
        first = payloads[0] if payloads else None
        return events, first.log_group if first else None, first.log_stream if first else None
    text = data.decode("utf-8", errors="replace")
    stripped = text.strip()
    if stripped.startswith(("{", "[")) and "\n" in stripped:
        # One pretty-printed JSON document (a CloudTrail record, or an S3 {"Records": [...]}).
        try:
            document = orjson.loads(stripped)
        except orjson.JSONDecodeError:
            document = None
        if isinstance(document, dict) and isinstance(document.get("Records"), list):
            document = document["Records"]
        if isinstance(document, dict):
            return [orjson.dumps(document).decode()], None, None
        if isinstance(document, list):
            return [orjson.dumps(item).decode() for item in document], None, None
    lines = [line.rstrip("\r") for line in text.split("\n")]
    return [_line_event(line, n) for n, line in enumerate(lines, 1) if line.strip()], None, None


def _show(number: int, channels: list[str], notification: Any, show_html: bool, tz: str) -> None:
    from logsieve.alerts.helpers import format_time

    when = format_time(notification.timestamp, tz)
    header = f"── {number}. to {', '.join(channels)} · {notification.severity} · {when} "
    click.echo(click.style(header.ljust(78, "─"), fg="cyan"))
    click.echo(click.style(notification.title, bold=True))
    click.echo()
    click.echo(notification.text.rstrip("\n"))
    if notification.tags:
        click.echo(click.style("tags: " + ", ".join(notification.tags), dim=True))
    if show_html and notification.html:
        click.echo(click.style("html:", dim=True))
        click.echo(notification.html)
    click.echo()


@alerts.command("test")
@click.argument("rule")
@click.argument("source", default="-", type=click.Path(dir_okay=False, allow_dash=True))
@_config_option
@click.option("--log-group", help="Log group the events come from (default: the rule's first).")
@click.option("--log-stream", default="test", show_default=True, help="Log stream name.")
@click.option("--html", "show_html", is_flag=True, help="Also print the HTML rendering.")
@click.option("--json", "as_json", is_flag=True, help="Print the notifications as JSON.")
def test_rule(
    rule: str,
    source: str,
    config_path: Path | None,
    log_group: str | None,
    log_stream: str,
    show_html: bool,
    as_json: bool,
) -> None:
    """Show what RULE would send for the events in SOURCE (a file, or - for stdin).

    Nothing is sent and no state is kept. SOURCE holds log lines (flow records, JSON records
    such as CloudTrail or Client VPN, one per line), FilterLogEvents-style JSON lines
    ({"timestamp": ..., "message": ...}), or a subscription delivery (a Lambda event with
    awslogs.data, Kinesis/Firehose records, gzip or base64). Only events that match the rule's
    pattern count; digests, dedup and thresholds apply as they would live, using the time
    written in each event. Exit status: 0 when something would be sent, 1 when nothing
    would, 2 for an error.

    \b
    Examples:
      logsieve alerts test vpn-connections samples/client-vpn-connections.jsonl
      logsieve alerts test rejected-traffic vpc-flow.log --config ./logsieve.toml
      aws logs filter-log-events --log-group-name trail --output json \\
        | jq -c '.events[]' | logsieve alerts test iam-user-activity -
    """
    from logsieve.alerts.engine import AlertEngine
    from logsieve.storage.factory import open_stores

    rules = _rules(config_path)
    names = [r.name for r in rules]
    if rule not in names:
        known = ", ".join(names) if names else "none (see `logsieve recipes list`)"
        raise AlertsError(f"No alert rule named {rule!r} in the config; rules: {known}")
    chosen = rules[names.index(rule)]
    events, payload_group, payload_stream = _events(_read(source))
    with tempfile.TemporaryDirectory(prefix="logsieve-alerts-test-") as scratch:
        engine = AlertEngine(rules, open_stores(Path(scratch)).alert_state(), lambda *_: None)
        try:
            sent = engine.test(
                rule,
                events,
                log_group=log_group or payload_group or chosen.log_groups[0],
                log_stream=payload_stream
                if payload_stream and log_stream == "test"
                else log_stream,
            )
        finally:
            engine.close()
    # One notification goes to every channel of the rule: show it once with its channels.
    grouped: list[tuple[list[str], Any]] = []
    for channel, notification in sent:
        if grouped and grouped[-1][1] is notification:
            grouped[-1][0].append(channel)
        else:
            grouped.append(([channel], notification))
    if as_json:
        document = [
            {
                "channels": channels,
                "title": n.title,
                "text": n.text,
                "severity": n.severity,
                "timestamp": n.timestamp,
                "html": n.html,
                "tags": list(n.tags),
                "aggregation_key": n.aggregation_key,
                "fields": n.fields,
            }
            for channels, n in grouped
        ]
        click.echo(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())
    else:
        for number, (channels, notification) in enumerate(grouped, 1):
            _show(number, channels, notification, show_html, chosen.timezone)
        plural = "" if len(grouped) == 1 else "s"
        click.echo(
            f"{len(grouped)} notification{plural} from {len(events)} events "
            f"for rule {rule!r}; nothing was sent."
        )
    sys.exit(EXIT_SENT if grouped else EXIT_NOTHING)
