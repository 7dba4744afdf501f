"""``TopicStore`` (SNS topics and subscriptions) on JetStream: one KV bucket.

Keys (names hex-encoded): ``t.<topic arn>`` topics, ``s.<subscription arn>`` subscriptions,
``e.<topic arn>.<protocol>.<endpoint>`` the uniqueness of a subscription's target and
``k.<token>`` its confirmation token, both pointing at the subscription's ARN. Creations are
insert-if-absent, and every write touching several keys is one atomic batch (``atomic.py``),
so two nodes creating the same topic or subscription agree on one. Sequence numbers (the
listing order) come from a cluster-wide counter.

Listing scans the bucket's topic or subscription keys (``records.scan``): SNS accounts hold
thousands of topics, not millions; an in-memory mirror kept by a watch is the next step if a
listing ever shows in a profile.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from nats.js.errors import KeyWrongLastSequenceError

from ..topics import SubscriptionRow, TopicRow
from .atomic import Write, commit, open_bucket
from .options import JetStreamOptions
from .records import absent, load, name_key, revision, scan

__all__ = ["JetStreamTopicStore"]

_BUCKET = "topics"


def _key(kind: str, *names: str) -> str:
    return ".".join((kind, *map(name_key, names)))


def _dump(row: TopicRow | SubscriptionRow) -> bytes:
    return orjson.dumps(dataclasses.asdict(row))


class JetStreamTopicStore:
    """``TopicStore`` in the bucket ``<namespace>_topics``."""

    def __init__(self, options: JetStreamOptions) -> None:
        self._conn, self._kv = open_bucket(options, "topics", _BUCKET)

    async def _load(self, key: str) -> tuple[dict[str, Any], int] | None:
        return await load(self._conn, _BUCKET, key)

    async def _topic(self, arn: str) -> tuple[TopicRow, int] | None:
        found = await self._load(_key("t", arn))
        return (TopicRow(**found[0]), found[1]) if found else None

    async def _subscription(self, arn: str) -> tuple[SubscriptionRow, int] | None:
        found = await self._load(_key("s", arn))
        return (SubscriptionRow(**found[0]), found[1]) if found else None

    def _commit(self, *writes: Write) -> None:
        self._conn.run(commit(self._conn, _BUCKET, writes))

    # -- topics -------------------------------------------------------------------------------

    def create_topic(self, row: TopicRow) -> tuple[TopicRow, bool]:
        async def create() -> tuple[TopicRow, bool]:
            key = _key("t", row.arn)
            while True:
                # The revision first, then the look: a topic another node creates in
                # between makes the write below fail instead of overwriting it.
                expect = await absent(self._conn, _BUCKET, key)
                if expect is None:
                    existing = await self._topic(row.arn)
                    if existing is None:
                        continue  # deleted meanwhile: look again
                    return existing[0], False
                seq = await self._conn.next_id(_BUCKET)
                stored = dataclasses.replace(row, seq=seq, subscriptions_deleted=0)
                try:
                    await commit(self._conn, _BUCKET, [Write(key, _dump(stored), expect)])
                except KeyWrongLastSequenceError:
                    continue  # created (or deleted) meanwhile: look again
                return stored, True

        return self._conn.run(create())

    def get_topic(self, arn: str) -> TopicRow | None:
        found = self._conn.run(self._topic(arn))
        return found[0] if found else None

    def _all(self, kind: str) -> list[dict[str, Any]]:
        records = self._conn.run(scan(self._conn, _BUCKET, f"{kind}.>")).values()
        return sorted(records, key=lambda record: record["seq"])

    def list_topics(self, after_seq: int, limit: int) -> Sequence[TopicRow]:
        rows = [TopicRow(**r) for r in self._all("t") if r["seq"] > after_seq]
        return rows[:limit]

    def update_topic(
        self,
        arn: str,
        attributes: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> TopicRow | None:
        def change(row: TopicRow) -> TopicRow:
            if attributes is not None:
                row = dataclasses.replace(row, attributes=dict(attributes))
            if tags is not None:
                row = dataclasses.replace(row, tags=dict(tags))
            return row

        return self._conn.run(self._change_topic(arn, change))

    async def _change_topic(self, arn: str, change: Any) -> TopicRow | None:
        while True:
            found = await self._topic(arn)
            if found is None:
                return None
            row = change(found[0])
            try:
                await commit(self._conn, _BUCKET, [Write(_key("t", arn), _dump(row), found[1])])
            except KeyWrongLastSequenceError:
                continue
            return row

    def delete_topic(self, arn: str) -> bool:
        subscriptions = self.topic_subscriptions(arn)
        found = self._conn.run(self._topic(arn))
        if found is None:
            return False
        writes = [Write(_key("t", arn), None, found[1])]
        for sub in subscriptions:
            writes += self._subscription_deletes(sub)
        try:
            self._commit(*writes)
        except KeyWrongLastSequenceError:
            return self.delete_topic(arn)  # changed meanwhile: again, on what is there now
        return True

    # -- subscriptions ---------------------------------------------------------------------------

    @staticmethod
    def _subscription_deletes(row: SubscriptionRow) -> list[Write]:
        return [
            Write(_key("s", row.arn), None),
            Write(_key("e", row.topic_arn, row.protocol, row.endpoint), None),
            Write(_key("k", row.token), None),
        ]

    def add_subscription(self, row: SubscriptionRow) -> tuple[SubscriptionRow, bool]:
        async def add() -> tuple[SubscriptionRow, bool]:
            target = _key("e", row.topic_arn, row.protocol, row.endpoint)
            while True:
                topic = await self._topic(row.topic_arn)
                if topic is None:
                    raise ValueError(f"no topic {row.topic_arn}")
                existing = await self._load(target)
                if existing is not None:
                    found = await self._subscription(existing[0]["arn"])
                    if found is not None:
                        return found[0], False
                seq = await self._conn.next_id("subscriptions")
                stored = dataclasses.replace(row, seq=seq)
                writes = [
                    # the topic unchanged since we looked: not deleted under us
                    Write(_key("t", row.topic_arn), _dump(topic[0]), topic[1]),
                    Write(target, orjson.dumps({"arn": row.arn}), await self._rev(target)),
                    Write(_key("s", row.arn), _dump(stored)),
                    Write(_key("k", row.token), orjson.dumps({"arn": row.arn})),
                ]
                try:
                    await commit(self._conn, _BUCKET, writes)
                except KeyWrongLastSequenceError:
                    continue
                return stored, True

        return self._conn.run(add())

    async def _rev(self, key: str) -> int:
        return await revision(self._conn, _BUCKET, key)

    def get_subscription(self, arn: str) -> SubscriptionRow | None:
        found = self._conn.run(self._subscription(arn))
        return found[0] if found else None

    def subscription_by_token(self, token: str) -> SubscriptionRow | None:
        found = self._conn.run(self._load(_key("k", token)))
        return self.get_subscription(found[0]["arn"]) if found else None

    def _change_subscription(self, arn: str, change: Any) -> SubscriptionRow | None:
        async def changed() -> SubscriptionRow | None:
            while True:
                found = await self._subscription(arn)
                if found is None:
                    return None
                row = change(found[0])
                try:
                    await commit(self._conn, _BUCKET, [Write(_key("s", arn), _dump(row), found[1])])
                except KeyWrongLastSequenceError:
                    continue
                return row

        return self._conn.run(changed())

    def confirm_subscription(self, arn: str, authenticated: bool) -> SubscriptionRow | None:
        return self._change_subscription(
            arn,
            lambda row: dataclasses.replace(
                row, pending=False, authenticated=row.authenticated or authenticated
            ),
        )

    def set_subscription_attributes(
        self, arn: str, attributes: Mapping[str, str]
    ) -> SubscriptionRow | None:
        return self._change_subscription(
            arn, lambda row: dataclasses.replace(row, attributes=dict(attributes))
        )

    def delete_subscription(self, arn: str) -> SubscriptionRow | None:
        async def delete() -> SubscriptionRow | None:
            while True:
                found = await self._subscription(arn)
                if found is None:
                    return None
                row, rev = found
                writes = [Write(_key("s", arn), None, rev), *self._subscription_deletes(row)[1:]]
                topic = await self._topic(row.topic_arn)
                if topic is not None:
                    counted = dataclasses.replace(
                        topic[0], subscriptions_deleted=topic[0].subscriptions_deleted + 1
                    )
                    writes.append(Write(_key("t", row.topic_arn), _dump(counted), topic[1]))
                try:
                    await commit(self._conn, _BUCKET, writes)
                except KeyWrongLastSequenceError:
                    continue
                return row

        return self._conn.run(delete())

    def list_subscriptions(
        self, topic_arn: str | None, after_seq: int, limit: int
    ) -> Sequence[SubscriptionRow]:
        rows = [
            SubscriptionRow(**r)
            for r in self._all("s")
            if r["seq"] > after_seq and (topic_arn is None or r["topic_arn"] == topic_arn)
        ]
        return rows[:limit]

    def topic_subscriptions(self, topic_arn: str) -> Sequence[SubscriptionRow]:
        return [SubscriptionRow(**r) for r in self._all("s") if r["topic_arn"] == topic_arn]

    def close(self) -> None:
        self._conn.close()
