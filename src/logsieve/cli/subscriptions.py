"""``logsieve subscriptions`` and ``logsieve dead-letters``: watch and repair delivery."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import click

from .admin_client import AdminClient, server_options


def _when(ms: int | None) -> str:
    if not ms:
        return "-"
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in [header, *rows]]  # fmt: skip
    return "\n".join(lines)


@click.command("subscriptions")
@server_options
@click.option("--json", "as_json", is_flag=True, help="Print the status document as JSON.")
def subscriptions(
    endpoint_url: str | None, config_path: Path | None, data_dir: Path | None, as_json: bool
) -> None:
    """Show every subscription filter's delivery: lag, delivered, failed, dead letters.

    The same document is served at GET /_logsieve/subscriptions (SigV4-signed).
    """
    found = AdminClient(endpoint_url, config_path, data_dir).call("GET", "subscriptions")
    items = found["subscriptions"]
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    if not items:
        click.echo("No subscription filters. Create one with PutSubscriptionFilter.")
        return
    rows = [
        [
            f"{s['logGroupName']} / {s['filterName']}", s["state"], s["health"],
            str(s["lagEvents"]), f"{s['lagSeconds']:.1f}s", str(s["deliveredEvents"]),
            str(s["failedAttempts"]), str(s["deadLetteredEvents"]),
        ]
        for s in items
    ]  # fmt: skip
    header = ["SUBSCRIPTION", "STATE", "HEALTH", "LAG", "LAG AGE", "DELIVERED", "FAILED", "DEAD"]
    click.echo(_table(rows, header))
    for s in items:
        if note := _error_note(s):
            click.echo(f"{s['logGroupName']} / {s['filterName']}: {note}")


def _error_note(status: dict[str, Any]) -> str | None:
    """What is wrong now; else the last failure, marked as one the subscription got past."""
    if status["error"]:
        return f"ERROR: {status['error']}"
    if status["lastError"]:
        when = _when(status["lastErrorTime"])
        return f"last error at {when}: {status['lastError']} (recovered)"
    return None


@click.group("dead-letters")
def dead_letters() -> None:
    """Inspect and re-deliver payloads that exhausted their retries.

    A payload that keeps failing past the retry window ([delivery] retry_window_seconds,
    24 hours by default) or hits a permanent error (the destination was deleted) is kept in
    the data directory. Fix the cause, then `logsieve dead-letters redrive ID`.
    """


@dead_letters.command("list")
@server_options
@click.option("--all", "everything", is_flag=True, help="Include re-driven ones.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_letters(
    endpoint_url: str | None, config_path: Path | None, data_dir: Path | None,
    everything: bool, as_json: bool,
) -> None:  # fmt: skip
    """List dead letters (pending ones unless --all)."""
    client = AdminClient(endpoint_url, config_path, data_dir)
    found = client.call("GET", "dead-letters", {"all": "true"} if everything else None)
    letters = found["deadLetters"]
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    if not letters:
        click.echo("No dead letters.")
        return
    rows = [
        [
            str(d["id"]), _when(d["created"]), f"{d['logGroupName']} / {d['filterName']}",
            str(d["events"]), str(d["attempts"]), "redriven" if d["redriven"] else "pending",
            d["error"][:60],
        ]
        for d in letters
    ]  # fmt: skip
    header = ["ID", "CREATED", "SUBSCRIPTION", "EVENTS", "ATTEMPTS", "STATE", "ERROR"]
    click.echo(_table(rows, header))


@dead_letters.command("show")
@server_options
@click.argument("letter_id", type=int)
def show_letter(
    endpoint_url: str | None, config_path: Path | None, data_dir: Path | None, letter_id: int
) -> None:
    """Print one dead letter with its decoded payload, as JSON."""
    found = AdminClient(endpoint_url, config_path, data_dir).call(
        "GET", f"dead-letters/{letter_id}"
    )
    click.echo(json.dumps(found, indent=2, ensure_ascii=False))


@dead_letters.command("redrive")
@server_options
@click.argument("letter_ids", type=int, nargs=-1)
@click.option("--all", "everything", is_flag=True, help="Re-deliver every pending dead letter.")
def redrive(
    endpoint_url: str | None, config_path: Path | None, data_dir: Path | None,
    letter_ids: tuple[int, ...], everything: bool,
) -> None:  # fmt: skip
    """Deliver dead letters again, to the destination they were meant for."""
    client = AdminClient(endpoint_url, config_path, data_dir)
    ids: list[Any] = list(letter_ids)
    if everything:
        ids += [d["id"] for d in client.call("GET", "dead-letters")["deadLetters"]]
        if not ids:
            click.echo("No dead letters to re-drive.")
            return
    if not ids:
        raise click.UsageError("name dead letter ids to re-drive, or use --all")
    failed = 0
    for letter_id in ids:
        try:
            letter = client.call("POST", f"dead-letters/{letter_id}/redrive")
        except click.ClickException as exc:
            failed += 1
            click.echo(f"dead letter {letter_id}: not delivered: {exc.message}", err=True)
            continue
        click.echo(f"dead letter {letter_id}: delivered {letter['events']} events")
    if failed:
        raise SystemExit(1)


@click.group("notifications", invoke_without_command=True)
@server_options
@click.option("--json", "as_json", is_flag=True, help="Print the outbox status as JSON.")
@click.pass_context
def notifications(
    ctx: click.Context, endpoint_url: str | None, config_path: Path | None,
    data_dir: Path | None, as_json: bool,
) -> None:  # fmt: skip
    """Show the notification outbox: per channel, pending, sent, failed, given up.

    Alerts and SNS deliveries wait in a durable outbox and are retried with backoff; what
    keeps failing past a channel's retry window ([[channels]] retry_seconds) is kept, with its
    error, until `logsieve notifications redrive` sends it again.
    """
    ctx.obj = (endpoint_url, config_path, data_dir)
    if ctx.invoked_subcommand is not None:
        return
    found = AdminClient(endpoint_url, config_path, data_dir).call("GET", "notifications")
    if as_json:
        click.echo(json.dumps(found, indent=2, ensure_ascii=False))
        return
    now = time.time()
    rows = [
        [
            c["kind"], str(c["pending"]), str(c["sent"]), str(c["failed_attempts"]),
            str(c["given_up"]), _outbox_error(c, now)[:70],
        ]
        for c in found["channels"]
    ]  # fmt: skip
    if not rows:
        click.echo("Nothing sent yet. Channels are declared as [[channels]] in logsieve.toml.")
        return
    click.echo(_table(rows, ["CHANNEL", "PENDING", "SENT", "FAILED", "GIVEN UP", "LAST ERROR"]))
    for channel in found["channels"]:
        for dest in channel.get("failing_destinations") or ():
            click.echo(
                f"failing: {dest['destination']} ({channel['kind']}, {dest['pending']} waiting, "
                f"last error {_ago(dest['last_error_time'], now)}): {dest['last_error']}"
            )
    for item in found["failures"]:
        title = item.get("title") or item.get("key") or ""
        click.echo(f"given up: #{item['id']} {item['kind']} {title!r}: {item['error']}")


def _ago(seconds: float | None, now: float) -> str:
    if seconds is None:
        return "-"
    age = max(0, int(now - seconds))
    if age < 120:
        return f"{age}s ago"
    return f"{age // 60} min ago" if age < 7200 else f"{age // 3600} h ago"


def _outbox_error(channel: dict[str, Any], now: float) -> str:
    """The current error while a destination is failing; a past one marked as recovered."""
    if channel.get("last_error"):
        return str(channel["last_error"])
    if channel.get("past_error"):
        when = _ago(channel.get("past_error_time"), now)
        recovered = (channel.get("recovered_time") or 0) >= (channel.get("past_error_time") or 0)
        state = "recovered" if recovered else "nothing waiting"
        return f"({state}; last error {when}) {channel['past_error']}"
    return ""


@notifications.command("redrive")
@click.pass_obj
def resend(obj: tuple[str | None, Path | None, Path | None]) -> None:
    """Queue every given-up notification again (after fixing the channel)."""
    found = AdminClient(*obj).call("POST", "notifications/redrive")
    click.echo(f"{found['requeued']} notifications queued again")
