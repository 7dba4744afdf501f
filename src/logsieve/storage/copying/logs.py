"""Copy CloudWatch Logs state: groups, streams, events, metric and subscription filters, and
each subscription's delivery position.

Groups (creation time, KMS key, class, retention, tags) and streams (creation time) are
copied by name: ids are the target's own. Events go batch by batch as they were appended, each
batch with its original ingestion time and event timestamps; event ids and pagination tokens
change (they encode the target's sequence numbers), storedBytes and first/last event times are
recomputed from the events.

Subscription positions: a copied subscription filter resumes after the last event it had
delivered on the source, not at the end of the copied log, so a backlog undelivered when the
source stopped is delivered from the cluster. Sequence numbers change in the copy, so while a
group's events are copied each filter's source cursor is mapped to the target sequence number
of the last copied event at or before it (kept in the copy's progress consumer, so a resumed
run still knows it), and the filter's cursor is placed there before the filter is created.
Standing subscriptions (alert rules, named by the caller from the config) get the same, with
their activation times, so an alert rule also resumes where it stopped.

Idempotent: a re-run copies only what is missing. Each group's progress is a cursor in the
target (consumer ``storage-copy/<source>/<group>``) committed after each batch; a batch
appended just before an interruption is recognised by its events and not appended twice. A
filter already on the target keeps its cursor (it may be delivering there already).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator, Sequence

from ..migrate import ACTIVATED
from ..protocols import LogsStore
from ..records import LogGroup, StoredEvent, SubscriptionFilter, subscription_consumer
from ..source_positions import SourcePositions
from ..sqlite import SEQ_BITS
from .report import PAGE, CopyReport, Say

__all__ = ["copy_logs", "copy_source_positions", "position_key", "progress_consumer"]

STANDING = "standing/"  # the positions of standing subscriptions, beside the filters'
READ_LIMIT = 20_000  # events per read: above PutLogEvents' 10,000, so a whole batch fits


def progress_consumer(source_name: str, group_id: int) -> str:
    """The target's cursor recording how far the source's group ``group_id`` was copied."""
    return f"storage-copy/{hashlib.sha256(source_name.encode()).hexdigest()[:12]}/{group_id}"


def position_key(filter_name: str) -> str:
    """Where the progress consumer keeps a filter's mapped position (a consumer value)."""
    return f"position/{filter_name}"


def _all_groups(store: LogsStore) -> Iterator[LogGroup]:
    after: str | None = None
    while page := store.groups(None, None, None, after, PAGE):
        yield from page
        after = page[-1].name


def copy_logs(
    source: LogsStore,
    target: LogsStore,
    source_name: str,
    report: CopyReport,
    say: Say,
    standing: Sequence[str] = (),
) -> None:
    """``standing``: the names of standing subscriptions (alert rules) whose positions and
    activation times are copied too (they are declared in the config, not stored)."""
    for name in standing:
        activated = source.consumer_value(name, ACTIVATED)
        if activated is not None and target.consumer_value(name, ACTIVATED) is None:
            target.set_consumer_value(name, ACTIVATED, activated)
    for group in _all_groups(source):
        made = target.create_group(
            group.name, group.creation_time, group.kms_key_id, group.log_group_class
        )
        report.add("log groups", made is not None)
        into = made or target.group(group.name)
        if into is None:  # deleted on the target while copying
            raise RuntimeError(f"log group {group.name} vanished from the target")
        if into.retention_days != group.retention_days:
            target.set_retention(into.id, group.retention_days)
        tags = source.tags(group.id)
        if tags and target.tags(into.id) != tags:
            target.set_tags(into.id, tags)
        streams = _copy_streams(source, target, group.id, into.id, report)
        filters = source.subscription_filters(group.id)
        cursors = {f.name: source.cursor(f.consumer) for f in filters}
        placed = {
            f"{STANDING}{name}": cursor
            for name in standing
            if (cursor := source.cursor(subscription_consumer(group.id, name)))
        }
        positions = _Positions(target, progress_consumer(source_name, group.id), cursors | placed)
        events = _copy_events(source, target, group.id, into.id, streams, positions)
        report.add("events", True, events)
        _copy_metric_filters(source, target, group, into.id, report)
        _copy_subscription_filters(target, filters, into.id, positions, report)
        for key in placed:
            consumer = subscription_consumer(into.id, key.removeprefix(STANDING))
            if not target.cursor(consumer):  # 1: before every event (0 would mean unplaced)
                target.commit_cursor(consumer, max(positions.of(key), 1))
        say(f"log group {group.name}: {len(streams)} streams, {events:,} events copied")


def _copy_streams(
    source: LogsStore, target: LogsStore, src_group: int, dst_group: int, report: CopyReport
) -> dict[int, int]:
    """Create the group's streams on the target: source stream id -> target stream id."""
    mapping = {}
    after = None
    while page := source.streams(src_group, None, False, False, after, PAGE):
        for stream in page:
            made = target.create_stream(dst_group, stream.name, stream.creation_time)
            report.add("log streams", made is not None)
            found = made or target.stream(dst_group, stream.name)
            if found is None:
                raise RuntimeError(f"log stream {stream.name} vanished from the target")
            mapping[stream.id] = found.id
        after = (page[-1].name,)
    return mapping


class _Positions:
    """The group's copy progress in the target (cursor of ``consumer``) and, per subscription
    filter, the target sequence number of the last copied event at or before the filter's
    source cursor (none: nothing delivered yet, so the filter reads the group from its start).

    A filter's position is saved once, when a batch passes its source cursor (or when the
    events end), not after every batch: a run interrupted before that leaves an older position,
    so the resumed filter redelivers a little (at least once), never skips."""

    def __init__(self, target: LogsStore, consumer: str, cursors: dict[str, int]) -> None:
        self.target, self.consumer, self.cursors = target, consumer, cursors
        self.pending: dict[str, int | None] = dict.fromkeys(cursors)

    def copied(self, batch: list[StoredEvent], seqs: list[int]) -> None:
        """``batch`` (source events) is in the target as ``seqs``: advance what it passes."""
        for name in list(self.pending):
            cursor = self.cursors[name]
            done = [new for event, new in zip(batch, seqs, strict=True) if event[1] <= cursor]
            if done:
                self.pending[name] = done[-1]
            if batch[-1][1] > cursor:
                self._save(name)
        self.target.commit_cursor(self.consumer, batch[-1][1])

    def finish(self) -> None:
        """The events ended: save the positions not saved yet."""
        for name in list(self.pending):
            self._save(name)

    def _save(self, name: str) -> None:
        value = self.pending.pop(name)
        if value is not None:
            self.target.set_consumer_value(self.consumer, position_key(name), value)

    def of(self, name: str) -> int:
        value = self.target.consumer_value(self.consumer, position_key(name))
        return value or 0


def _batches(source: LogsStore, group_id: int, after: int) -> Iterator[list[StoredEvent]]:
    """The group's events after ``after``, one list per appended batch, in append order."""
    limit = READ_LIMIT
    while True:
        events = source.read_after(after, limit, group_id)
        if not events:
            return
        batches: list[list[StoredEvent]] = []
        for event in events:
            if batches and batches[-1][0][1] >> SEQ_BITS == event[1] >> SEQ_BITS:
                batches[-1].append(event)
            else:
                batches.append([event])
        if len(events) >= limit:  # the last batch may be cut short: read it again whole
            if len(batches) == 1:
                limit *= 2
                continue
            batches.pop()
        yield from batches
        after = batches[-1][-1][1]


def _copy_events(
    source: LogsStore,
    target: LogsStore,
    src_group: int,
    dst_group: int,
    streams: dict[int, int],
    positions: _Positions,
) -> int:
    copied, first = 0, True
    for batch in _batches(source, src_group, target.cursor(positions.consumer)):
        stream = streams[batch[0][3]]
        seqs = _already_there(target, stream, batch) if first else None
        if seqs is None:
            messages = [event[5] for event in batch]
            start = target.append(
                dst_group,
                stream,
                [event[0] for event in batch],
                messages,
                sum(len(m.encode("utf-8")) for m in messages),
                batch[0][4],
            )
            seqs = [start + n for n in range(len(batch))]  # a batch's seqs are consecutive
            copied += len(batch)
        first = False
        positions.copied(batch, seqs)
    positions.finish()
    return copied


def _already_there(target: LogsStore, stream: int, batch: list[StoredEvent]) -> list[int] | None:
    """The target seqs of ``batch`` if a run interrupted before it committed its cursor had
    appended it (its events, with its ingestion time, are in the target stream), else None."""
    start, end = min(e[0] for e in batch), max(e[0] for e in batch) + 1
    stored = target.stream_events(stream, start, end, None, None, READ_LIMIT * 2)
    there: dict[tuple[int, int, str], list[int]] = {}
    for e in stored:
        there.setdefault((e[0], e[4], e[5]), []).append(e[1])
    found = []
    for e in batch:
        left = there.get((e[0], e[4], e[5]))
        if not left:
            return None
        found.append(left.pop(0))
    return sorted(found)


def _copy_metric_filters(
    source: LogsStore, target: LogsStore, group: LogGroup, dst_group: int, report: CopyReport
) -> None:
    have = {f.name: f for f in target.metric_filters(group.name, None, None, None, PAGE)}
    for item in source.metric_filters(group.name, None, None, None, PAGE):
        new = have.get(item.name) != item
        if new:
            target.put_metric_filter(dst_group, item)
        report.add("metric filters", new)


def _copy_subscription_filters(
    target: LogsStore,
    filters: list[SubscriptionFilter],
    dst_group: int,
    positions: _Positions,
    report: CopyReport,
) -> None:
    there = {f.name: f for f in target.subscription_filters(dst_group)}
    for item in filters:
        moved = dataclasses.replace(item, group_id=dst_group)
        new = there.get(item.name) != moved
        if item.name not in there:  # placed first: creating the filter keeps a cursor
            target.commit_cursor(moved.consumer, positions.of(item.name))
        if new:
            target.put_subscription_filter(moved)
        report.add("subscription filters", new)


def copy_source_positions(
    source: SourcePositions,
    target: SourcePositions,
    names: Sequence[str],
    now: int,
    report: CopyReport,
) -> None:
    """The positions of the sources ``names`` (declared in the config, not stored), after
    their events: a source on the target resumes where it stopped, neither reading again what
    was copied nor skipping. A source the target has positions for already keeps them."""
    for name in names:
        positions = source.positions(name)
        new = bool(positions) and not target.positions(name)
        if new:
            target.append_at(name, [], positions, now)
        report.add("source positions", new)
