"""``logsieve put`` and ``logsieve ship``: send lines from files to a log stream."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import click

from .admin_client import server_options

_TIMESTAMPS = click.option(
    "--timestamps",
    type=click.Choice(["now", "parse"]),
    default="now",
    show_default=True,
    help="Event timestamps: the time of reading, or parsed from the start of each line "
    "(ISO-8601 such as 2025-03-10T14:00:00Z, or epoch ms; lines without one take the "
    "previous line's).",
)
_CREATE = click.option(
    "--create", is_flag=True, help="Create the log group and stream if they do not exist."
)


def _plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count:,} {word}" if count == 1 else f"{count:,} {words or word + 's'}"


def _sender(options: dict[str, Any], stop: threading.Event, forever: bool) -> Any:
    """A Sender for the configured server; retries for ever when ``forever`` (ship)."""
    from logsieve.shipping.client import target_from_config
    from logsieve.shipping.sender import RetryPolicy, Sender

    target, _config = target_from_config(
        options["endpoint_url"], options["config_path"], options["data_dir"]
    )

    def retrying(problem: str, delay: float) -> None:
        click.echo(f"warning: {problem}; retrying in {delay:.1f} s", err=True)

    retry = RetryPolicy(max_attempts=None, max_delay=30.0) if forever else RetryPolicy()
    return Sender(
        target.client(), endpoint=target.endpoint_url, retry=retry, on_retry=retrying, stop=stop
    )


def _prepare(sender: Any, group: str, stream: str, create: bool) -> None:
    if create:
        sender.ensure_stream(group, stream)
    else:
        sender.check_stream(group, stream)


def _report_rejected(result: Any, what: str) -> None:
    """Refused events are reported as they happen, never dropped silently."""
    if not result.rejected:
        return
    first = f"; first: {result.rejected_messages[0][:120]!r}" if result.rejected_messages else ""
    click.echo(
        f"warning: the server refused {result.rejected.total:,} {what}: "
        f"{result.rejected.describe()}{first}",
        err=True,
    )


@click.command("put")
@click.argument("source", default="-", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--group", required=True, help="Log group to send to.")
@click.option("--stream", required=True, help="Log stream to send to.")
@_TIMESTAMPS
@_CREATE
@server_options
def put(source: str, group: str, stream: str, timestamps: str, create: bool,
        **options: Any) -> None:  # fmt: skip
    """Send every line of SOURCE (a file, or - for standard input) as one log event each.

    Lines are batched as an agent batches them (up to 10,000 events or 1 MiB per
    PutLogEvents, within 24 hours, in time order, sent 200 ms after a batch's first line),
    so a pipe is streamed, not held until its end. Empty lines are skipped; events the
    server refuses (older than 14 days, over 2 hours ahead) are reported.

    \b
    Examples:
      logsieve put --group app --stream web-1 --create access.log
      tail -f app.log | logsieve put --group app --stream web-1 --timestamps parse
      logsieve simulate vpc-flow --count 5000 --output - | \\
        logsieve put --group flows --stream eni-0123456789abcdef0-all --create
    """
    from logsieve.shipping.errors import ShippingError
    from logsieve.shipping.put import put_lines
    from logsieve.shipping.signals import graceful_stop
    from logsieve.shipping.timestamps import Stamper

    stop = threading.Event()
    try:
        fd = sys.stdin.fileno() if source == "-" else os.open(source, os.O_RDONLY)
    except OSError as exc:
        raise click.ClickException(f"cannot read {source}: {exc.strerror}") from exc
    try:
        with graceful_stop(stop, lambda name: click.echo(f"{name}: stopping", err=True)):
            sender = _sender(options, stop, forever=False)
            _prepare(sender, group, stream, create)
            stats = put_lines(
                fd, sender=sender, group=group, stream=stream, stamper=Stamper(timestamps),
                on_sent=lambda _batch, result, _stats: _report_rejected(result, "events"),
            )  # fmt: skip
    except ShippingError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        if source != "-":
            os.close(fd)
    rate = stats.events / stats.seconds if stats.seconds > 0 else 0.0
    line = (
        f"Sent {_plural(stats.events, 'event')} from {_plural(stats.lines, 'line')} to {group} / "
        f"{stream} in {_plural(stats.batches, 'batch', 'batches')} ({stats.seconds:.1f} s, "
        f"{rate:,.0f} events/s)"
    )
    extras = []
    if stats.empty:
        extras.append(f"{_plural(stats.empty, 'empty line')} skipped")
    if stats.truncated:
        extras.append(f"{_plural(stats.truncated, 'line')} truncated to 1 MiB")
    if stats.rejected:
        extras.append(f"{stats.rejected.total:,} refused: {stats.rejected.describe()}")
    click.echo(line + (f"; {'; '.join(extras)}" if extras else "") + ".")


@click.command("ship")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--group", required=True, help="Log group to send to.")
@click.option("--stream", help="Log stream to send to (default: the file's name).")
@_TIMESTAMPS
@_CREATE
@click.option(
    "--state",
    "state_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to remember the position (default: <data dir>/ship/<file>-<hash>.json).",
)
@click.option(
    "--from-end", is_flag=True, help="On the first run, skip what the file already holds."
)
@click.option("--once", is_flag=True, help="Send what the file holds now, then exit.")
@click.option(
    "--poll",
    type=click.FloatRange(min=0.01),
    default=0.25,
    show_default=True,
    help="Seconds between checks for new lines.",
)
@server_options
def ship(file: Path, group: str, stream: str | None, timestamps: str, create: bool,
         state_path: Path | None, from_end: bool, once: bool, poll: float,
         **options: Any) -> None:  # fmt: skip
    """Follow FILE like `tail -F` and send each new line as a log event.

    Handles rotation (rename and re-create: the old file is finished first), truncation
    (copytruncate) and a file that does not exist yet. The position (inode and byte offset)
    is saved after each batch the server accepted, so a restart resumes where it left off:
    after Ctrl-C or SIGTERM nothing is sent twice; after a crash the last batch may be sent
    again, but no line is lost. Only complete lines are sent.

    \b
    Examples:
      logsieve ship /var/log/app.log --group app --create
      logsieve ship flows.log --group /aws/vpc/flow-logs --stream eni-0a1b2c3d4e5f60718-all
      logsieve ship app.log --group app --timestamps parse --once
    """
    from logsieve.config import ConfigError
    from logsieve.sections import load_config
    from logsieve.shipping.errors import ShippingError
    from logsieve.shipping.ship import ship_file
    from logsieve.shipping.signals import graceful_stop
    from logsieve.shipping.state import PositionStore, default_state_path
    from logsieve.shipping.timestamps import Stamper

    stream = stream or file.name
    if state_path is None:
        try:
            config = load_config(
                options["config_path"], overrides={"data_dir": options["data_dir"]}
            )
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from exc
        state_path = default_state_path(config.data_dir, file, group, stream)
    store = PositionStore(state_path, file=file, group=group, stream=stream)
    stop = threading.Event()
    last_report = [time.monotonic()]

    def sent(_batch: Any, result: Any, stats: Any) -> None:
        _report_rejected(result, "lines")
        now = time.monotonic()
        if now - last_report[0] >= 30:
            last_report[0] = now
            click.echo(f"ship: {stats.events:,} lines sent to {group} / {stream}", err=True)

    try:
        store.lock()
        try:
            with graceful_stop(stop, lambda name: click.echo(f"{name}: stopping", err=True)):
                sender = _sender(options, stop, forever=True)
                _prepare(sender, group, stream, create)
                click.echo(f"ship: following {file} -> {group} / {stream}", err=True)
                stats = ship_file(
                    file, sender=sender, group=group, stream=stream, store=store,
                    stamper=Stamper(timestamps), stop=stop, once=once, from_end=from_end,
                    poll_interval=poll, on_sent=sent,
                    on_notice=lambda text: click.echo(f"ship: {text}", err=True),
                )  # fmt: skip
        finally:
            store.unlock()
    except ShippingError as exc:
        raise click.ClickException(str(exc)) from exc
    position = f"byte {stats.position.offset:,}" if stats.position else "nothing read yet"
    line = (
        f"Shipped {_plural(stats.events, 'event')} from {_plural(stats.lines, 'line')} of {file} "
        f"to {group} / {stream} in {_plural(stats.batches, 'batch', 'batches')}; position saved "
        f"at {position} ({store.path})"
    )
    if stats.rejected:
        line += f"; {stats.rejected.total:,} refused: {stats.rejected.describe()}"
    if stats.interrupted:
        line += "; stopped while the server was unreachable: unsent lines go on the next run"
    click.echo(line + ".")
