"""Copy SNS topics and subscriptions (ARNs, attributes, tags, confirmation state), CloudWatch
alarms (configuration, state, tags and history, and the actions of transitions not yet handed
on to the outbox), dead letters, CloudTrail trails and the recorded event history (event ids
kept)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from ..alarms import AlarmStore
from ..protocols import DeadLetters
from ..topics import TopicStore
from ..trails import EventRow, TrailStore
from .report import PAGE, CopyReport, Say

__all__ = ["copy_alarms", "copy_dead_letters", "copy_topics", "copy_trails"]


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
    """Each alarm not on the target, with its history in the same transaction (so a re-run
    never adds history twice)."""
    for alarm in source.list_alarms():
        new = target.get_alarm(alarm.name) is None
        if new:
            history = [
                dataclasses.replace(item, seq=0)
                for item in source.history(alarm.name, newest_first=False, limit=1_000_000)
            ]
            target.put_alarm(alarm, history)
            report.add("alarm history items", True, len(history))
        report.add("alarms", new)
    # Then the actions the source committed but never handed on: the target hands them on
    # (and so sends them) once, however often the copy runs.
    pending = [(key, payload) for _, key, payload in source.pending_actions(limit=1_000_000)]
    if pending:
        added = target.add_copied_actions(pending)
        report.add("pending alarm actions", True, added)
        report.add("pending alarm actions", False, len(pending) - added)
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
