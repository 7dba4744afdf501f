"""``logsieve storage copy``: move a SQLite data directory's state onto a JetStream cluster, for
a deployment that outgrew one node (storage/copying/ does the copying; this is the command).

The source server must be stopped (its data directory lock is checked). Re-running copies only
what is missing, so an interrupted copy is finished by running it again.
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import click

from logsieve.errors import ConfigError

from .server_config import resolve_config

if TYPE_CHECKING:
    from logsieve.storage.copying import CopyReport
    from logsieve.storage.jetstream.options import JetStreamOptions

__all__ = ["stopped", "storage"]

_RESUME = "then run the copy again (it resumes)"
# What nats-py raises when the cluster is up but no leader answers (its type names, so this
# module imports no client library).
_NO_ANSWER = {"TimeoutError", "NoRespondersError", "ServiceUnavailableError"}


def _copy_functions(source: Path, options: JetStreamOptions, report: CopyReport) -> None:
    """The data directory's Lambda functions onto the cluster (code through a scratch cache)."""
    from logsieve.lambdas.copying import copy_functions
    from logsieve.lambdas.store import DirectoryFunctionStore
    from logsieve.lambdas.store_jetstream import open_function_store

    if not (source / "lambda" / "functions").is_dir():
        return
    with tempfile.TemporaryDirectory(prefix="logsieve-copy-") as cache:
        target = open_function_store(Path(cache), "jetstream", options)
        try:
            copy_functions(DirectoryFunctionStore(source / "lambda"), target, report, click.echo)
        finally:
            target.close()


def stopped(exc: Exception, urls: str) -> str:
    """The one line for a copy that failed with ``exc``: what failed and what to do."""
    if isinstance(exc, ConfigError):  # refused, unreachable, not on JetStream: says the fix
        return f"{exc}; {_RESUME}"
    if type(exc).__name__ in _NO_ANSWER:
        return (
            f"the NATS cluster at {urls} did not answer ({type(exc).__name__}): it may have lost"
            " its quorum (a majority of its servers down) or its JetStream leader; start the"
            f" missing servers, {_RESUME}"
        )
    return f"the copy stopped: {type(exc).__name__}: {exc}; {_RESUME}"


@click.group()
def storage() -> None:
    """Move logsieve's state between storage engines."""


@storage.command("copy")
@click.option(
    "--from",
    "source",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The SQLite data directory to copy from (its server stopped).",
)
@click.option(
    "--to",
    "target_config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='A logsieve.toml with [storage] engine = "jetstream" to copy into.',
)
@click.option(
    "--to-nats-urls",
    help="Or the cluster's URLs, comma-separated (with --namespace and --replicas); alert"
    " rules and sources resume where they stopped only with --to (names are in its config).",
)
@click.option("--namespace", default=None, help="With --to-nats-urls (default: logsieve).")
@click.option("--replicas", default=None, type=click.IntRange(1, 5), help="With --to-nats-urls.")
@click.option(
    "--partitions",
    default=None,
    type=click.IntRange(1, 64),
    help="With --to-nats-urls: the event log's streams of a new namespace (fixed once made).",
)
def copy(
    source: Path,
    target_config: Path | None,
    to_nats_urls: str | None,
    namespace: str | None,
    replicas: int | None,
    partitions: int | None,
) -> None:
    """Copy log groups, streams, events, filters, SNS topics, alarms, dead letters,
    CloudTrail, EC2 resources and Lambda functions from a SQLite data directory to a
    JetStream cluster; print what is not copied."""
    from logsieve.alerts.config import ALERTS
    from logsieve.alerts.service import standing_name
    from logsieve.sources.config import SOURCES
    from logsieve.storage.copying import NOT_COPIED, copy_stores
    from logsieve.storage.datadir import refuse_if_in_use
    from logsieve.storage.factory import open_stores
    from logsieve.storage.jetstream.options import JetStreamOptions
    from logsieve.storage.settings import STORAGE

    if (target_config is None) == (to_nats_urls is None):
        raise click.UsageError("give one of --to CONFIG or --to-nats-urls URLS")
    if not (source / "logsieve.db").exists():
        raise click.ClickException(f"{source} holds no logsieve.db: not a SQLite data directory")
    try:
        refuse_if_in_use(source)
    except ConfigError as exc:
        raise click.ClickException(f"{exc}; stop that server before copying") from exc
    if target_config is not None:
        if namespace or replicas or partitions:
            raise click.UsageError(
                "--namespace, --replicas and --partitions go with --to-nats-urls"
                " (a config says them in [storage])"
            )
        config = resolve_config(None, None, None, target_config)
        settings = STORAGE.of(config)
        if settings.engine != "jetstream":
            raise click.ClickException(
                f'{target_config}: [storage] engine is "{settings.engine}"; the copy goes to '
                'engine = "jetstream"'
            )
        options, data_dir = settings.jetstream, config.data_dir
        standing = [standing_name(rule.name) for rule in ALERTS.of(config)]
        sources = [spec.name for spec in SOURCES.of(config)]
    else:
        urls = tuple(u.strip() for u in (to_nats_urls or "").split(",") if u.strip())
        options = dataclasses.replace(
            JetStreamOptions(urls=urls),
            **{
                k: v
                for k, v in (
                    ("namespace", namespace),
                    ("replicas", replicas),
                    ("partitions", partitions),
                )
                if v
            },
        )
        data_dir, standing, sources = source, [], []
    parts = f", {options.partitions} partitions" if options.partitions else ""
    click.echo(f"copying {source} to JetStream at {options.describe()}"
               f" (namespace {options.namespace}, {options.replicas} replicas{parts})")  # fmt: skip
    quiet = logging.NullHandler()  # the client's reconnect warnings: the one line says it
    logging.getLogger().addHandler(quiet)
    try:
        report = copy_stores(
            open_stores(source, "sqlite"),
            open_stores(data_dir, "jetstream", options),
            str(source.resolve()),
            click.echo,
            [partial(_copy_functions, source, options)],
            standing,
            sources,
        )
    except Exception as exc:  # every failure ends as one line, not a traceback
        raise click.ClickException(stopped(exc, options.describe())) from exc
    finally:
        logging.getLogger().removeHandler(quiet)
    kinds = sorted(set(report.copied) | set(report.present))
    for kind in kinds:
        click.echo(
            f"  {kind}: {report.copied.get(kind, 0):,} copied,"
            f" {report.present.get(kind, 0):,} already there"
        )
    click.echo("not copied:")
    for store, why in NOT_COPIED.items():
        click.echo(f"  {store}: {why}")
