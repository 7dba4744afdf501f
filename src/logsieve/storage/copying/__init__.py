"""Copy a deployment's state from one set of stores to another (SQLite to JetStream, when one
node is outgrown), through the storage protocols only, so any engine pair works.

One module per kind family (logs.py, resources.py, ec2.py...), each saying what it keeps and
what changes; every one is idempotent (a re-run copies only what is missing). Lambda functions
are copied by ``lambdas/copying.py`` (above this layer), passed in as an extra step.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from ..factory import Stores
from ..protocols import LogsStore
from ..streams import StreamStore
from .alerting import copy_alert_state, copy_outbox
from .ec2 import copy_ec2
from .kinesis import copy_kinesis
from .logs import copy_logs, copy_source_positions, progress_consumer
from .metrics import copy_metrics
from .report import CopyReport, Say
from .resources import copy_alarms, copy_dead_letters, copy_topics, copy_trails

__all__ = ["NOT_COPIED", "CopyReport", "copy_stores", "progress_consumer"]

# State the copy leaves behind, with why (the command prints these).
NOT_COPIED = {
    "outbox": "sent and given-up notifications (only pending ones are copied)",
    "alert_state": "ids of events alert rules already processed (event ids change)",
    "alarms": "history of deleted alarms",
    "Kinesis": "sequence numbers (the target's own: restart consumers from TRIM_HORIZON)",
}

Extra = Callable[[CopyReport], None]


def copy_stores(
    source: Stores,
    target: Stores,
    source_name: str,
    say: Say,
    extra: Sequence[Extra] = (),
    standing: Sequence[str] = (),
    sources: Sequence[str] = (),
) -> CopyReport:
    """Copy every store that can be copied from ``source`` to ``target``; ``source_name``
    identifies the source across runs (its data directory), ``say`` gets progress lines,
    ``extra`` steps (state kept outside these stores) run last with the same report,
    ``standing``: the standing subscriptions (alert rules) whose positions to copy,
    ``sources``: the sources (``[[sources]]``) whose positions in their feeds to copy."""
    report = CopyReport()

    def logs(src: LogsStore, dst: LogsStore) -> None:
        copy_logs(src, dst, source_name, report, say, standing)
        copy_source_positions(
            source.source_positions(src), target.source_positions(dst), sources,
            int(time.time() * 1000), report,
        )  # fmt: skip

    steps: list[tuple[Callable[[Stores], object], Callable[..., None]]] = [
        (lambda s: s.logs(), logs),
        (lambda s: s.topics(), lambda a, b: copy_topics(a, b, report, say)),
        (lambda s: s.alarms(), lambda a, b: copy_alarms(a, b, report, say)),
        (lambda s: s.dead_letters(), lambda a, b: copy_dead_letters(a, b, report, say)),
        (lambda s: s.cloudtrail(), lambda a, b: copy_trails(a, b, report, say)),
        (lambda s: s.ec2(), lambda a, b: copy_ec2(a, b, report, say)),
        (lambda s: s.metrics(), lambda a, b: copy_metrics(a, b, source_name, report, say)),
        (lambda s: s.outbox(), lambda a, b: copy_outbox(a, b, source_name, report, say)),
        (lambda s: s.alert_state(), lambda a, b: copy_alert_state(a, b, report, say)),
        (lambda s: s.streams(), lambda a, b: _with_logs(target, a, b, source_name, report, say)),
    ]
    for open_store, step in steps:
        src = open_store(source)
        try:
            dst = open_store(target)
            try:
                step(src, dst)
            finally:
                dst.close()  # type: ignore[attr-defined]
        finally:
            src.close()  # type: ignore[attr-defined]
    for more in extra:
        more(report)
    return report


def _with_logs(
    target: Stores,
    source: StreamStore,
    into: StreamStore,
    source_name: str,
    report: CopyReport,
    say: Say,
) -> None:
    """Kinesis, with its progress kept in the target's event log."""
    progress = target.logs()
    try:
        copy_kinesis(source, into, progress, source_name, report, say)
    finally:
        progress.close()
