"""``logsieve simulate``: realistic, reproducible log traffic into a running server."""

from __future__ import annotations

import re
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from .admin_client import server_options

if TYPE_CHECKING:
    from logsieve.simulate.runner import Progress

_FOURTEEN_DAYS_MS = 14 * 24 * 3_600_000
_TWO_HOURS_MS = 2 * 3_600_000


_AGO = re.compile(r"-(\d+(?:\.\d+)?)([smhd])")
_UNIT_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def _parse_start(text: str) -> int | None:
    """``now`` -> None (the run's start); ``-2h`` (that long ago), ISO-8601 (no zone = UTC)
    or epoch ms -> ms."""
    value = text.strip()
    if value.lower() == "now":
        return None
    ago = _AGO.fullmatch(value)
    if ago is not None:
        return int(time.time() * 1000 - float(ago.group(1)) * _UNIT_MS[ago.group(2)])
    if value.isdigit():
        return int(value)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not 'now', a time ago (-2h), an ISO-8601 time "
            "(2025-03-10T14:00:00Z) or epoch ms"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _iso(ms: int) -> str:
    """ISO-8601 UTC with milliseconds only when needed (replays must be exact)."""
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{ms % 1000:03d}Z" if ms % 1000 else f"{text}Z"


def _plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count:,} {word}" if count == 1 else f"{count:,} {words or word + 's'}"


class _ProgressLine:
    """Progress on stderr for long runs: rewritten in place on a terminal, a line every 10 s
    otherwise (logs and CI), nothing during the first 2 s (short runs stay quiet)."""

    def __init__(self, source: str, enabled: bool) -> None:
        self.source = source
        self.enabled = enabled
        self.tty = sys.stderr.isatty()
        self.last_line = 0.0
        self.shown = False

    def __call__(self, p: Progress) -> None:
        if not self.enabled or p.elapsed < 2.0:
            return
        now = time.monotonic()
        if not self.tty and now - self.last_line < 10.0:
            return
        self.last_line = now
        text = (
            f"{self.source}: {p.sent:,} events sent ({p.generated:,} generated), "
            f"{p.events_per_second:,.0f} events/s"
        )
        if p.rejected:
            text += f", {p.rejected.total:,} rejected"
        if self.tty:
            click.echo(f"\r\x1b[2K{text}", err=True, nl=False)
            self.shown = True
        else:
            click.echo(text, err=True)

    def close(self) -> None:
        if self.shown:
            click.echo("", err=True)
            self.shown = False


def _options(function: Callable[..., Any]) -> Callable[..., Any]:
    """The options every source shares."""
    options = [
        click.option("--group", help="Log group to write to (default: the source's usual one)."),
        click.option("--seed", type=int, help="Random seed: the same seed, --start and --rate "
                     "give the same events (default: a random seed, printed at the end)."),
        click.option("--rate", type=click.FloatRange(min=0, min_open=True), default=100.0,
                     show_default=True, help="Events per second, also the density of the "
                     "simulated timeline."),
        click.option("--duration", type=click.FloatRange(min=0, min_open=True),
                     help="Stop after this many seconds."),
        click.option("--count", type=click.IntRange(min=1), help="Stop after this many events."),
        click.option("--start", default="now", show_default=True, help="Simulated time of the "
                     "first event: now, a time ago (-30m, -2h, -1d), ISO-8601 "
                     "(2025-03-10T14:00:00Z) or epoch ms. CloudWatch rejects events over 14 "
                     "days old or 2 h ahead."),
        click.option("--fast", is_flag=True, help="Do not pace: send as fast as the server "
                     "takes it (timestamps still advance by 1/--rate per event)."),
        click.option("--output", type=click.File("w", lazy=False), help="Write the messages to "
                     "this file (- for stdout), one per line, instead of sending them."),
        click.option("--senders", type=click.IntRange(1, 16), default=2, show_default=True,
                     help="Concurrent PutLogEvents requests."),
        click.option("--quiet", "-q", is_flag=True, help="No progress line."),
        server_options,
    ]  # fmt: skip
    for option in reversed(options):
        function = option(function)
    return function


def _run(source: str, options: dict[str, Any], generator_options: dict[str, Any]) -> None:
    from logsieve.shipping.client import target_from_config
    from logsieve.shipping.errors import ShippingError
    from logsieve.shipping.signals import graceful_stop
    from logsieve.simulate.runner import run

    start_ms = _parse_start(options["start"])
    output = options["output"]
    if options["duration"] is None and options["count"] is None and output is not None:
        raise click.UsageError("--output needs --count or --duration (it does not pace)")
    try:
        if output is None:
            target, config = target_from_config(
                options["endpoint_url"], options["config_path"], options["data_dir"]
            )
        else:
            from logsieve.sections import load_config

            target, config = None, load_config(options["config_path"])
    except ShippingError as exc:
        raise click.ClickException(str(exc)) from exc
    if target is not None:
        now = int(time.time() * 1000)
        first = now if start_ms is None else start_ms
        if first < now - _FOURTEEN_DAYS_MS + 60_000:
            raise click.BadParameter(
                f"{_iso(first)} is more than 14 days ago: CloudWatch Logs rejects such events; "
                "choose a later --start",
                param_hint="--start",
            )
        if first > now + _TWO_HOURS_MS:
            raise click.BadParameter(
                f"{_iso(first)} is more than 2 hours ahead: CloudWatch Logs rejects such "
                "events; choose an earlier --start",
                param_hint="--start",
            )
    to_stdout = output is not None and getattr(output, "name", "") in ("<stdout>", "-")
    quiet = options["quiet"] or to_stdout
    printer = _ProgressLine(source, enabled=not quiet)
    stop = threading.Event()

    def stopping(signal_name: str) -> None:
        printer.close()
        click.echo(f"{signal_name}: stopping after the batches in flight (again to quit now)",
                   err=True)  # fmt: skip

    def retrying(problem: str, delay: float) -> None:
        click.echo(f"warning: {problem}; retrying in {delay:.1f} s", err=True)

    try:
        with graceful_stop(stop, stopping):
            summary = run(
                source, target,
                group=options["group"], seed=options["seed"], rate=options["rate"],
                duration=options["duration"], count=options["count"], start_ms=start_ms,
                paced=not options["fast"], account_id=config.account_id, region=config.region,
                options=generator_options, output=output, stop=stop, progress=printer,
                senders=options["senders"], on_retry=retrying,
            )  # fmt: skip
    except ShippingError as exc:
        raise click.ClickException(str(exc)) from exc
    except KeyboardInterrupt:
        raise click.ClickException("interrupted; batches in flight were not all sent") from None
    finally:
        printer.close()
    replay = f"--seed {summary.seed} --start {_iso(summary.start_ms)} --rate {summary.rate:g}"
    if output is not None:
        if not to_stdout:
            click.echo(
                f"Wrote {summary.sent:,} {source} messages "
                f"({_plural(len(summary.streams), 'log stream')}) "
                f"in {summary.elapsed:.1f} s ({summary.events_per_second:,.0f} events/s). "
                f"Same events again: {replay}",
                err=True,
            )
        return
    assert target is not None
    click.echo(
        f"Sent {summary.sent:,} {source} events to {summary.group} on {target.endpoint_url} in "
        f"{summary.elapsed:.1f} s: {summary.events_per_second:,.0f} events/s, "
        f"{_plural(summary.batches, 'PutLogEvents batch', 'PutLogEvents batches')}, "
        f"{_plural(len(summary.streams), 'log stream')}."
    )
    click.echo(f"Same events again: {replay}")
    if summary.rejected:
        click.echo(
            f"warning: the server refused {summary.rejected.total:,} events: "
            f"{summary.rejected.describe()}",
            err=True,
        )


@click.group("simulate")
def simulate() -> None:
    """Send realistic VPC Flow Logs, Client VPN or CloudTrail traffic to a running server.

    Events go through the real API (signed PutLogEvents, batched as an agent batches them)
    into the log group and streams the AWS service would use. Runs are reproducible: the same
    --seed, --start and --rate give the same events.

    \b
    Examples:
      logsieve simulate vpc-flow --duration 60
      logsieve simulate cloudtrail --rate 20 --seed 7
      logsieve simulate client-vpn --start -2h --rate 20 --count 100000 --fast
      logsieve simulate vpc-flow --count 1000 --output flows.log
    """


@simulate.command("vpc-flow")
@_options
@click.option(
    "--format",
    "flow_format",
    help="Flow log format: '${version} ${account-id} ...' (default: AWS's default format).",
)
@click.option(
    "--traffic-type",
    type=click.Choice(["ALL", "ACCEPT", "REJECT"], case_sensitive=False),
    default="ALL",
    show_default=True,
    help="The flow log's filter; also the stream suffix (eni-...-all).",
)
def vpc_flow(flow_format: str | None, traffic_type: str, **options: Any) -> None:
    """VPC Flow Logs from six ENIs: web traffic, internal calls, NAT egress, NTP, ping, admin
    SSH, rejected probes of 22/23/3389/445/1433, port scans, NODATA and SKIPDATA records.

    One log stream per ENI (eni-<id>-all); event timestamp = the record's start x 1000.
    Default group /aws/vpc/flow-logs.

    \b
    Examples:
      logsieve simulate vpc-flow --rate 500 --duration 30
      logsieve simulate vpc-flow --traffic-type REJECT --format \\
        '${version} ${interface-id} ${srcaddr} ${dstaddr} ${dstport} ${action} ${tcp-flags}'
    """
    from logsieve.formats.vpc_flow import DEFAULT_FORMAT, FlowLogFormat

    fmt = flow_format or DEFAULT_FORMAT
    try:
        FlowLogFormat.from_string(fmt)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--format") from None
    _run("vpc-flow", options, {"format": fmt, "traffic_type": traffic_type})


@simulate.command("client-vpn")
@_options
def client_vpn(**options: Any) -> None:
    """Client VPN connection logs from three endpoints (Active Directory, SAML, certificate
    with a client-connect handler): connects, periodic updates, disconnects
    (connection-reset), failures, and bursts of failures from one address.

    One log stream per endpoint in AWS's layout (<endpoint>-<region>-<yyyy/mm/dd>-<12 chars>);
    event timestamp = connection-last-update-time. Default group /aws/vpn/connections.
    """
    _run("client-vpn", options, {})


@simulate.command("cloudtrail")
@_options
def cloudtrail(**options: Any) -> None:
    """CloudTrail management events: IAM users, assumed roles (CI deploys, IAM Identity
    Center, instance and Lambda roles), root, AWS services; reads and writes, console sign-ins
    that succeed and fail (HIDDEN_DUE_TO_SECURITY_REASONS), access-denied and other errors.

    One log stream, <account>_CloudTrail_<region>; event timestamp = eventTime. Default group
    aws-cloudtrail-logs-<account>-4f9a2b1c.
    """
    _run("cloudtrail", options, {})


@simulate.command("world")
@server_options
@click.option("--rate", type=click.FloatRange(min=0, min_open=True), default=100.0,
              show_default=True, help="Flow-log events per second, for each flow log.")  # fmt: skip
@click.option("--trail-rate", type=click.FloatRange(min=0, min_open=True), default=10.0,
              show_default=True,
              help="Simulated users' CloudTrail events/s, for each logging trail.")  # fmt: skip
@click.option("--duration", type=click.FloatRange(min=0, min_open=True),
              help="Stop after this many seconds (default: until Ctrl-C).")  # fmt: skip
@click.option("--connect-every", type=click.FloatRange(min=0, min_open=True), default=5.0,
              show_default=True,
              help="Seconds between connection attempts on each endpoint.")  # fmt: skip
@click.option("--session-seconds", type=click.FloatRange(min=0, min_open=True), default=60.0,
              show_default=True,
              help="Average time a VPN user stays connected.")  # fmt: skip
@click.option("--refresh", type=click.FloatRange(min=0, min_open=True), default=5.0,
              show_default=True,
              help="Seconds between looks at the account's configuration.")  # fmt: skip
@click.option("--seed", type=int, help="Random seed.")
def world(endpoint_url: str | None, config_path: Any, data_dir: Any, rate: float,
          trail_rate: float, duration: float | None, connect_every: float,
          session_seconds: float, refresh: float, seed: int | None) -> None:  # fmt: skip
    """A living account: logs for what is configured through the API, as AWS would write them.

    Every flow log (CreateFlowLogs to CloudWatch Logs) gets flow records in its LogFormat, one
    stream per network interface of its resource; every available Client VPN endpoint (one
    with a target network) gets users who connect (its client connect handler decides), stay
    about --session-seconds and leave, logged only where connection logging is enabled;
    every trail that is logging to a CloudWatch Logs group gets simulated users' activity in
    <account>_CloudTrail_<region>, next to the server's records of real calls.
    Changes made through the API take effect within --refresh seconds.

    \b
    Examples:
      logsieve simulate world --duration 60
      logsieve simulate world --rate 1000 --connect-every 1
    """
    from logsieve.shipping.client import target_from_config
    from logsieve.shipping.errors import ShippingError
    from logsieve.shipping.signals import graceful_stop
    from logsieve.simulate.world import World

    try:
        target, config = target_from_config(endpoint_url, config_path, data_dir)
    except ShippingError as exc:
        raise click.ClickException(str(exc)) from exc
    stop = threading.Event()
    running = World(target, rate=rate, trail_rate=trail_rate, connect_every=connect_every,
                    refresh=refresh, seed=seed, account_id=config.account_id,
                    session_seconds=session_seconds)  # fmt: skip
    try:
        with graceful_stop(stop):
            summary = running.run(duration, stop)
    except ShippingError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"Sent {summary.events:,} flow-log events for "
        f"{_plural(len(summary.flow_events), 'flow log')}, "
        f"{sum(summary.trail_events.values()):,} CloudTrail events for "
        f"{_plural(len(summary.trail_events), 'trail')} and made "
        f"{_plural(summary.attempts, 'connection attempt')} ({summary.allowed:,} allowed, "
        f"{summary.disconnects:,} ended) "
        f"in {summary.elapsed:.1f} s."
    )
