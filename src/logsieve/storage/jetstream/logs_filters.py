"""``LogFilters`` and the consumers' cursors on JetStream, in the logs KV bucket.

Keys: ``m.<group id>.<name>`` a metric filter, ``f.<group id>.<name>`` a subscription filter
(names hex-encoded); ``c.<consumer>`` a consumer's cursor, ``v.<consumer>.<key>`` a value it
keeps. A new subscription filter and its cursor (the end of the log then) commit in one
atomic batch with the group's existence check; a replaced filter keeps its cursor.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from nats.js.errors import KeyWrongLastSequenceError

from ..records import MetricFilter, SubscriptionFilter, subscription_consumer
from .atomic import Write
from .logs_metadata import BUCKET, LogsKv, group_key
from .records import absent, name_key

__all__ = ["FiltersPart"]


def _filter_key(kind: str, group_id: int, name: str) -> str:
    return f"{kind}.{group_id}.{name_key(name)}"


def _cursor_key(consumer: str) -> str:
    return f"c.{name_key(consumer)}"


def _value_key(consumer: str, key: str) -> str:
    return f"v.{name_key(consumer)}.{name_key(key)}"


class FiltersPart(LogsKv):
    """``LogFilters`` plus the ``EventLog`` cursors and consumer values."""

    async def _group_names(self) -> dict[int, str]:
        return {r["id"]: r["name"] for r in (await self._scan("g.*")).values()}

    # -- metric filters ---------------------------------------------------------------------

    def put_metric_filter(self, group_id: int, item: MetricFilter) -> None:
        async def put() -> None:
            key = _filter_key("m", group_id, item.name)
            found = await self._load(key)
            created = found[0]["creation_time"] if found else item.creation_time
            record = {
                "name": item.name, "pattern": item.pattern,
                "transformations": item.transformations, "creation_time": created,
            }  # fmt: skip
            await self._guarded(group_id, Write(key, orjson.dumps(record)))

        self._run(put())

    def delete_metric_filter(self, group_id: int, name: str) -> bool:
        return bool(self._run(self._delete_if_there(_filter_key("m", group_id, name))))

    async def _delete_if_there(self, key: str, *also: Write) -> bool:
        while True:
            found = await self._load(key)
            if found is None:
                return False
            try:
                await self._commit([Write(key, None, found[1]), *also])
                return True
            except KeyWrongLastSequenceError:
                continue

    def count_metric_filters(self, group_id: int) -> int:
        return len(self._run(self._scan(f"m.{group_id}.*")))

    def metric_filters(
        self,
        group_name: str | None,
        prefix: str | None,
        metric: tuple[str, str] | None,
        after: tuple[str, str] | list[str] | None,
        limit: int,
    ) -> list[MetricFilter]:
        async def listed() -> list[MetricFilter]:
            if group_name is not None:
                found = await self._load(group_key(group_name))
                if found is None:
                    return []
                names = {found[0]["id"]: group_name}
                pattern = f"m.{found[0]['id']}.*"
            else:
                names, pattern = await self._group_names(), "m.>"
            filters = []
            for key, r in (await self._scan(pattern)).items():
                group = names.get(int(key.split(".")[1]))
                if group is not None:  # a filter of a deleted group is on its way out
                    filters.append(
                        MetricFilter(
                            group, r["name"], r["pattern"], r["transformations"],
                            r["creation_time"],
                        )
                    )  # fmt: skip
            return filters

        def order(f: MetricFilter) -> tuple[bytes, bytes]:
            return f.name.encode(), f.group_name.encode()

        chosen = []
        bound = None if after is None else (after[0].encode(), after[1].encode())
        for item in sorted(self._run(listed()), key=order):
            if prefix and not item.name.startswith(prefix):
                continue
            if bound is not None and order(item) <= bound:
                continue
            if metric is not None and not any(
                (t.get("metricName"), t.get("metricNamespace")) == metric
                for t in item.transformations
            ):
                continue
            chosen.append(item)
            if len(chosen) == limit:
                break
        return chosen

    # -- subscription filters -----------------------------------------------------------------

    def put_subscription_filter(self, item: SubscriptionFilter) -> None:
        """Create or replace; a new filter's cursor starts at the end of the event log."""

        async def put() -> None:
            key = _filter_key("f", item.group_id, item.name)
            cursor = _cursor_key(item.consumer)
            while True:
                found = await self._load(key)
                created = found[0]["creation_time"] if found else item.creation_time
                record = {
                    "name": item.name, "pattern": item.pattern,
                    "destination_arn": item.destination_arn, "role_arn": item.role_arn,
                    "distribution": item.distribution, "creation_time": created,
                    "options": item.options,
                }  # fmt: skip
                writes = [Write(key, orjson.dumps(record))]
                expect = await absent(self._conn, BUCKET, cursor)
                if expect is not None:  # no cursor yet: the end of the log now
                    end = await self._end_of_log(item.group_id)
                    writes.append(Write(cursor, orjson.dumps({"seq": end}), expect))
                try:
                    await self._guarded(item.group_id, *writes)
                    return
                except KeyWrongLastSequenceError:
                    continue  # a cursor appeared meanwhile: keep it

        self._run(put())

    def delete_subscription_filter(self, group_id: int, name: str) -> bool:
        key = _filter_key("f", group_id, name)
        cursor = Write(_cursor_key(subscription_consumer(group_id, name)), None)
        return bool(self._run(self._delete_if_there(key, cursor)))

    def subscription_filters(
        self, group_id: int | None, prefix: str | None = None, after: str | None = None,
        limit: int = -1,
    ) -> list[SubscriptionFilter]:  # fmt: skip
        """A group's filters (every group's when ``group_id`` is None), by group then name."""

        async def listed() -> list[SubscriptionFilter]:
            names = await self._group_names()
            pattern = "f.>" if group_id is None else f"f.{group_id}.*"
            found = []
            for key, r in (await self._scan(pattern)).items():
                owner = int(key.split(".")[1])
                if owner in names:
                    found.append(_subscription(owner, names[owner], r))
            return found

        chosen = [
            f
            for f in self._run(listed())
            if (not prefix or f.name.startswith(prefix))
            and (after is None or f.name.encode() > after.encode())
        ]
        chosen.sort(key=lambda f: (f.group_name.encode(), f.name.encode()))
        return chosen[:limit] if limit >= 0 else chosen

    # -- cursors and consumer values ----------------------------------------------------------

    def cursor(self, consumer: str) -> int:
        found = self._run(self._load(_cursor_key(consumer)))
        return int(found[0]["seq"]) if found else 0

    def commit_cursor(self, consumer: str, seq: int) -> None:
        """Last writer wins: one pump owns a consumer at a time."""
        self._run(self._put(_cursor_key(consumer), {"seq": seq}))

    async def _put(self, key: str, value: dict[str, Any]) -> None:
        await self._conn.retrying(self._kv.put, key, orjson.dumps(value))

    def consumer_value(self, consumer: str, key: str) -> int | None:
        found = self._run(self._load(_value_key(consumer, key)))
        return int(found[0]["value"]) if found else None

    def set_consumer_value(self, consumer: str, key: str, value: int) -> None:
        self._run(self._put(_value_key(consumer, key), {"value": value}))

    async def _forget_consumers(self, group_id: int) -> None:
        """Drop the cursors and values of a deleted group's subscriptions."""
        owned = name_key(subscription_consumer(group_id, ""))
        keys: Sequence[str] = [
            k
            for pattern in ("c.*", "v.*.*")
            for k in await self._keys(pattern)
            if k.split(".")[1].startswith(owned)
        ]
        await self._erase(keys)


def _subscription(group_id: int, group_name: str, r: dict[str, Any]) -> SubscriptionFilter:
    return SubscriptionFilter(
        group_id, group_name, r["name"], r["pattern"], r["destination_arn"], r["role_arn"],
        r["distribution"], r["creation_time"], r["options"],
    )  # fmt: skip
