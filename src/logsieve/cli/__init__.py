"""The ``logsieve`` command line: one module per command, gathered into one click group."""

from __future__ import annotations

import click

from logsieve import __version__

from .alarms import alarms
from .alerts import alerts
from .aws_setup import aws_setup
from .check import check
from .cluster import cluster
from .credentials import credentials
from .decode import decode
from .demo import demo
from .export import export
from .metrics import metrics
from .recipe_package import package
from .recipes import recipes
from .serve import serve
from .ship import put, ship
from .simulate import simulate
from .sources import sources
from .storage_copy import storage
from .subscriptions import dead_letters, notifications, subscriptions
from .test_pattern import test_pattern


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="logsieve")
def main() -> None:
    """logsieve turns cloud logs into timely, trustworthy alerts.

    It speaks CloudWatch Logs filter patterns exactly as AWS does. Start with
    `logsieve test-pattern --help` to try a pattern on your own log lines.
    """


main.add_command(alarms)
main.add_command(alerts)
main.add_command(check)
main.add_command(cluster)
main.add_command(credentials)
main.add_command(dead_letters)
main.add_command(decode)
main.add_command(demo)
main.add_command(export)
main.add_command(metrics)
main.add_command(recipes)
recipes.add_command(package)
main.add_command(put)
main.add_command(serve)
main.add_command(ship)
main.add_command(simulate)
main.add_command(subscriptions)
main.add_command(sources)
main.add_command(storage)
main.add_command(aws_setup)
main.add_command(notifications)
main.add_command(test_pattern)
