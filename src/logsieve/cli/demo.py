"""``logsieve demo``: the main job -- traffic in, alerts out, on this machine, in one command."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click


@click.command("demo")
@click.option(
    "--duration",
    type=click.FloatRange(min=0, min_open=True),
    default=60.0,
    show_default=True,
    help="Seconds of simulated traffic before the summary (stretched, by at most 60 s, "
    "until the alarm has gone to ALARM and back to OK).",
)
@click.option(
    "--keep-running",
    is_flag=True,
    help="After the summary, keep the server, SMTP catcher and Datadog receiver up until "
    "Ctrl-C, so you can point the aws CLI or boto3 at it.",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the config, database, emails and events go (default ./logsieve-demo, "
    "emptied at the start of each demo; a directory not made by the demo is refused).",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Port for the server; 0 picks a free one.",
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="Traffic multiplier: 1 is 100 flow-log records, 1 VPN record and 2 CloudTrail "
    "events per second.",
)
@click.option("--seed", type=int, help="Random seed for the world (default: random).")
def demo(
    duration: float,
    keep_running: bool,
    data_dir: Path | None,
    port: int,
    rate: float,
    seed: int | None,
) -> None:
    """See logsieve work end to end: simulated AWS logs in, alerts out.

    Starts the server with a demo config (the vpn-connections and iam-user-activity
    recipes by email, rejected-traffic as Datadog events), an SMTP catcher that files every
    email into a Maildir and a local Datadog events receiver, then sets the account up
    through the API as the README shows for AWS (a VPC flow log, a Client VPN endpoint with
    connection logging, a CloudTrail trail, and the rejected-traffic-rate recipe: a metric
    filter, a 10-second alarm, an SNS topic with a confirmed email subscription) and runs
    `logsieve simulate world` on it. The terminal shows events per second, matches per rule,
    each alert as it arrives and its delivery latency, and the alarm going OK -> ALARM -> OK
    when the world floods port 22 (the run is stretched, at most a minute, until it has);
    the summary says where the emails are and how to point the aws CLI or boto3 at the
    server. Everything stays on 127.0.0.1: no AWS account, no network.

    \b
    Examples:
      logsieve demo
      logsieve demo --duration 30 --rate 2
      logsieve demo --keep-running --port 4588 --data-dir /tmp/logsieve-demo
    """
    from logsieve.demo import DemoOptions, run_demo  # deferred: keeps `logsieve --help` fast
    from logsieve.errors import ConfigError

    options = DemoOptions(
        duration=duration,
        keep_running=keep_running,
        data_dir=data_dir,
        port=port,
        rate=rate,
        seed=seed,
    )
    try:
        status = run_demo(options, sys.stdout)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    except KeyboardInterrupt:
        click.echo("interrupted; the server and the receivers were stopped", err=True)
        sys.exit(130)
    except BrokenPipeError:  # `logsieve demo | head`: the reader left; everything is stopped
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    sys.exit(status)
