"""Copy a deployment's state from one set of stores to another (SQLite to JetStream, when one
node is outgrown), through the storage protocols only, so any engine pair works.

What is copied, and what changes:
- log groups (creation time, KMS key, class, retention, tags) and streams (creation time), by
  name: ids are the target's own;
- events, batch by batch as they were appended, each batch with its original ingestion time
  and event timestamps; event ids and pagination tokens change (they encode the target's
  sequence numbers), storedBytes and first/last event times are recomputed from the events;
- metric and subscription filters, after the events, so a copied subscription starts at the
  end of the copied log (nothing already delivered is delivered again);
- SNS topics and subscriptions (ARNs, attributes, tags, confirmation state), CloudWatch
  alarms (configuration, state and tags; not their history), dead letters, CloudTrail trails
  and the recorded event history (event ids kept).

Idempotent: a re-run copies only what is missing. Each group's progress is a cursor in the
target (consumer ``storage-copy/<source>/<group>``) committed after each batch; a batch
appended just before an interruption is recognised by its events and not appended twice.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from .alarms import AlarmStore
from .factory import Stores
from .protocols import DeadLetters, LogsStore
from .records import LogGroup, StoredEvent
from .sqlite import SEQ_BITS
from .topics import TopicStore
from .trails import EventRow, TrailStore

__all__ = ["NOT_COPIED", "CopyReport", "copy_stores", "progress_consumer"]

# Stores whose state the copy leaves behind, with why (the command prints these).
NOT_COPIED = {
    "metrics": "metric datapoints: the store has no way to list raw observations",
    "streams": "Kinesis stream records: sequence numbers and shard positions are the store's",
    "ec2": "EC2 resources (VPCs, flow logs, Client VPN endpoints): not yet",
    "outbox": "notifications waiting to be sent: send them before copying",
    "alert_state": "alert dedup and digest windows: they restart empty",
    "cursors": "subscription positions: copied filters start at the end of the copied log",
}

READ_LIMIT = 20_000  # events per read: above PutLogEvents' 10,000, so a whole batch fits
PAGE = 1000

Say = Callable[[str], None]


@dataclass
class CopyReport:
    """What one run did: counts per kind (``copied``) and what was already there."""

    copied: dict[str, int] = field(default_factory=dict)
    present: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, created: bool, count: int = 1) -> None:
        into = self.copied if created else self.present
        into[kind] = into.get(kind, 0) + count


def copy_stores(source: Stores, target: Stores, source_name: str, say: Say) -> CopyReport:
    """Copy every store that can be copied from ``source`` to ``target``; ``source_name``
    identifies the source across runs (its data directory), ``say`` gets progress lines."""
    report = CopyReport()
    steps: list[tuple[Callable[[Stores], object], Callable[..., None]]] = [
        (lambda s: s.logs(), lambda a, b: copy_logs(a, b, source_name, report, say)),
        (lambda s: s.topics(), lambda a, b: copy_topics(a, b, report, say)),
        (lambda s: s.alarms(), lambda a, b: copy_alarms(a, b, report, say)),
        (lambda s: s.dead_letters(), lambda a, b: copy_dead_letters(a, b, report, say)),
        (lambda s: s.cloudtrail(), lambda a, b: copy_trails(a, b, report, say)),
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
    return report


# --- CloudWatch Logs -----------------------------------------------------------------------
def progress_consumer(source_name: str, group_id: int) -> str:
    """The target's cursor recording how far the source's group ``group_id`` was copied."""
    return f"storage-copy/{hashlib.sha256(source_name.encode()).hexdigest()[:12]}/{group_id}"


def _all_groups(store: LogsStore) -> Iterator[LogGroup]:
    after: str | None = None
    while page := store.groups(None, None, None, after, PAGE):
        yield from page
        after = page[-1].name


def copy_logs(
    source: LogsStore, target: LogsStore, source_name: str, report: CopyReport, say: Say
) -> None:
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
        consumer = progress_consumer(source_name, group.id)
        events = _copy_events(source, target, group.id, into.id, streams, consumer)
        report.add("events", True, events)
        _copy_filters(source, target, group, into.id, report)
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
    consumer: str,
) -> int:
    copied, first = 0, True
    for batch in _batches(source, src_group, target.cursor(consumer)):
        stream = streams[batch[0][3]]
        if not (first and _already_there(target, stream, batch)):
            messages = [event[5] for event in batch]
            target.append(
                dst_group,
                stream,
                [event[0] for event in batch],
                messages,
                sum(len(m.encode("utf-8")) for m in messages),
                batch[0][4],
            )
            copied += len(batch)
        first = False
        target.commit_cursor(consumer, batch[-1][1])
    return copied


def _already_there(target: LogsStore, stream: int, batch: list[StoredEvent]) -> bool:
    """Whether ``batch`` was appended by a run interrupted before it committed its cursor:
    its events, with its ingestion time, are in the target stream."""
    start, end = min(e[0] for e in batch), max(e[0] for e in batch) + 1
    stored = target.stream_events(stream, start, end, None, None, READ_LIMIT * 2)
    there = {(e[0], e[4], e[5]) for e in stored}
    return all((e[0], e[4], e[5]) in there for e in batch)


def _copy_filters(
    source: LogsStore, target: LogsStore, group: LogGroup, dst_group: int, report: CopyReport
) -> None:
    have = {f.name: f for f in target.metric_filters(group.name, None, None, None, PAGE)}
    for item in source.metric_filters(group.name, None, None, None, PAGE):
        new = have.get(item.name) != item
        if new:
            target.put_metric_filter(dst_group, item)
        report.add("metric filters", new)
    there = {f.name: f for f in target.subscription_filters(dst_group)}
    for item in source.subscription_filters(group.id):
        moved = dataclasses.replace(item, group_id=dst_group)
        new = there.get(item.name) != moved
        if new:
            target.put_subscription_filter(moved)
        report.add("subscription filters", new)


# --- SNS, alarms, dead letters -------------------------------------------------------------
def copy_topics(source: TopicStore, target: TopicStore, report: CopyReport, say: Say) -> None:
    after = 0
    while page := source.list_topics(after, PAGE):
        for topic in page:
            _, made = target.create_topic(dataclasses.replace(topic, seq=0))
            report.add("SNS topics", made)
            for sub in source.topic_subscriptions(topic.arn):
                _, made = target.add_subscription(dataclasses.replace(sub, seq=0))
                report.add("SNS subscriptions", made)
        after = page[-1].seq
    say(f"SNS: {report.copied.get('SNS topics', 0)} topics copied")


def copy_alarms(source: AlarmStore, target: AlarmStore, report: CopyReport, say: Say) -> None:
    for alarm in source.list_alarms():
        new = target.get_alarm(alarm.name) is None
        if new:
            target.put_alarm(alarm)
        report.add("alarms", new)
    say(f"alarms: {report.copied.get('alarms', 0)} copied")


def copy_dead_letters(
    source: DeadLetters, target: DeadLetters, report: CopyReport, say: Say
) -> None:
    def key(letter: object) -> tuple[object, ...]:
        fields = dataclasses.asdict(letter)  # type: ignore[call-overload]
        return tuple(v for k, v in sorted(fields.items()) if k not in ("id", "redriven"))

    there = {key(letter) for letter in target.list(include_redriven=True, limit=1_000_000)}
    for letter in source.list(include_redriven=True, limit=1_000_000):
        new = key(letter) not in there
        if new:
            target.add(letter)
        report.add("dead letters", new)
    say(f"dead letters: {report.copied.get('dead letters', 0)} copied")


def _history(store: TrailStore) -> Iterator[EventRow]:
    """Every recorded event, newest first."""
    before: tuple[int, int] | None = None
    while page := store.lookup_events(0, 2**62, None, before, PAGE):
        yield from page
        before = (page[-1].time_ms, page[-1].seq)


def copy_trails(source: TrailStore, target: TrailStore, report: CopyReport, say: Say) -> None:
    for trail in source.list_trails():
        report.add("trails", target.create_trail(trail))
    there = {event.event_id for event in _history(target)}
    missing = [
        dataclasses.replace(event, seq=0)
        for event in _history(source)
        if event.event_id not in there
    ]
    missing.reverse()  # oldest first, as they were recorded
    for start in range(0, len(missing), PAGE):
        target.append_events(missing[start : start + PAGE])
    report.add("CloudTrail events", True, len(missing))
    report.add("CloudTrail events", False, len(there))
    say(f"CloudTrail: {len(missing):,} events copied")
