"""``AlarmStore`` (CloudWatch alarms and their history) on JetStream: one KV bucket.

Keys: ``a.<name>`` (hex: key order is name order, as AWS lists alarms) an alarm;
``h.<seq>`` a history item (written once, read through ``WrittenOnce``); ``r.<key>`` an
action recorded once (``add_history(once=...)``); ``x.<key>`` an action of a committed
transition not yet handed on, with its id. Every SQLite transaction here is one atomic batch
conditional on the revisions it read (the alarm's, and "absent" for keys it inserts), again
on a lost race, so two nodes evaluating one alarm never both apply a transition and a
transition never lands without its history or actions. Seqs and ids come from counters.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson
from nats.js.errors import KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from ..alarms import AlarmRow, HistoryRow, StateChange
from .atomic import MAX_BATCH, Write, allow_atomic, commit
from .connection import Connection
from .options import JetStreamOptions
from .records import id_key, load, name_key, revision, scan
from .written_once import WrittenOnce, reserve

__all__ = ["JetStreamAlarmStore"]

_BUCKET = "alarms"
_HISTORY = "alarm_history"
_ACTIONS = "alarm_actions"


def _alarm_key(name: str) -> str:
    return f"a.{name_key(name)}"


def _dump(row: AlarmRow) -> bytes:
    return orjson.dumps(dataclasses.asdict(row))


class JetStreamAlarmStore:
    """``AlarmStore`` in the bucket ``<namespace>_alarms``."""

    def __init__(self, options: JetStreamOptions) -> None:
        self._conn = Connection(options, "alarms")
        try:
            self._conn.run(self._conn.ensure_counters())
            self._kv: KeyValue = self._conn.run(self._conn.ensure_kv(_BUCKET))
            self._conn.run(allow_atomic(self._conn, self._kv, _BUCKET))
            self._history = WrittenOnce(self._conn, _BUCKET, "h")
        except BaseException:
            self._conn.close()
            raise

    async def _alarm(self, name: str) -> tuple[AlarmRow, int] | None:
        found = await load(self._conn, _BUCKET, _alarm_key(name))
        return (AlarmRow(**found[0]), found[1]) if found else None

    async def _history_writes(self, history: Sequence[HistoryRow]) -> list[Write]:
        if not history:
            return []
        first = await reserve(self._conn, _HISTORY, len(history))
        return [
            Write(f"h.{id_key(first + n)}", orjson.dumps(dataclasses.replace(h, seq=first + n)))
            for n, h in enumerate(history)
        ]

    async def _transaction(self, attempt: Callable[[], Any]) -> Any:
        """Run ``attempt`` (which reads, then commits) again until no condition fails."""
        while True:
            try:
                return await attempt()
            except KeyWrongLastSequenceError:
                continue

    # -- alarms -------------------------------------------------------------------------------

    def put_alarm(self, row: AlarmRow, history: Sequence[HistoryRow] = ()) -> AlarmRow:
        async def attempt() -> AlarmRow:
            key = _alarm_key(row.name)
            absent = await revision(self._conn, _BUCKET, key)  # before the look, not after
            found = await self._alarm(row.name)
            if found is None:
                expect = absent
                seq = await self._conn.next_id(_BUCKET)
                stored = dataclasses.replace(row, seq=seq)
            else:  # tags stay: PutMetricAlarm ignores Tags on an update
                stored = dataclasses.replace(
                    found[0], config=row.config, config_updated_ms=row.config_updated_ms
                )
                expect = found[1]
            writes = [Write(key, _dump(stored), expect), *await self._history_writes(history)]
            await commit(self._conn, _BUCKET, writes)
            return stored

        return self._conn.run(self._transaction(attempt))

    def get_alarm(self, name: str) -> AlarmRow | None:
        found = self._conn.run(self._alarm(name))
        return found[0] if found else None

    def list_alarms(
        self, after_name: str | None = None, limit: int | None = None, prefix: str | None = None
    ) -> Sequence[AlarmRow]:
        records = self._conn.run(scan(self._conn, _BUCKET, "a.*")).values()  # name order
        rows = [
            row
            for row in map(lambda r: AlarmRow(**r), records)
            if row.name > (after_name or "") and row.name.startswith(prefix or "")
        ]
        return rows if limit is None else rows[:limit]

    def delete_alarms(self, names: Sequence[str], history: Sequence[HistoryRow] = ()) -> list[str]:
        async def attempt() -> list[str]:
            writes, deleted = [], []
            for name in dict.fromkeys(names):
                found = await self._alarm(name)
                if found is not None:
                    deleted.append(name)
                    writes.append(Write(_alarm_key(name), None, found[1]))
            kept = [h for h in history if h.alarm_name in deleted]
            await commit(self._conn, _BUCKET, [*writes, *await self._history_writes(kept)])
            return deleted

        return self._conn.run(self._transaction(attempt))

    def set_state(
        self, name: str, change: StateChange, history: Sequence[HistoryRow] = ()
    ) -> AlarmRow | None:
        async def attempt() -> AlarmRow | None:
            found = await self._alarm(name)
            if found is None:
                return None
            old, rev = found
            if change.config_updated_ms is not None and (
                old.config_updated_ms != change.config_updated_ms
            ):
                return None
            moved = old.state_value != change.state_value
            new = dataclasses.replace(
                old,
                state_value=change.state_value,
                state_reason=change.state_reason,
                state_reason_data=change.state_reason_data,
                state_updated_ms=change.at_ms,
                state_transitioned_ms=change.at_ms if moved else old.state_transitioned_ms,
            )
            writes = [
                Write(_alarm_key(name), _dump(new), rev),
                *await self._history_writes(history),
                *await self._action_writes(change.actions),
            ]
            await commit(self._conn, _BUCKET, writes)
            return new

        return self._conn.run(self._transaction(attempt))

    async def _action_writes(self, actions: Sequence[tuple[str, bytes]]) -> list[Write]:
        """Insert-if-absent writes of the actions whose keys are not pending already."""
        writes = []
        for key, payload in dict(actions).items():
            slot = f"x.{name_key(key)}"
            expect = await revision(self._conn, _BUCKET, slot)  # before the look, not after
            if await load(self._conn, _BUCKET, slot) is not None:
                continue
            record = {
                "id": await self._conn.next_id(_ACTIONS),
                "key": key,
                "payload": base64.b64encode(bytes(payload)).decode("ascii"),
            }
            writes.append(Write(slot, orjson.dumps(record), expect))
        return writes

    def _change(self, name: str, change: Callable[[AlarmRow], AlarmRow]) -> AlarmRow | None:
        async def attempt() -> AlarmRow | None:
            found = await self._alarm(name)
            if found is None:
                return None
            new = change(found[0])
            await commit(self._conn, _BUCKET, [Write(_alarm_key(name), _dump(new), found[1])])
            return new

        return self._conn.run(self._transaction(attempt))

    def set_config(self, name: str, config: Mapping[str, Any]) -> AlarmRow | None:
        return self._change(name, lambda row: dataclasses.replace(row, config=dict(config)))

    def tag(self, name: str, tags: Mapping[str, str]) -> AlarmRow | None:
        return self._change(name, lambda row: dataclasses.replace(row, tags={**row.tags, **tags}))

    def untag(self, name: str, keys: Sequence[str]) -> AlarmRow | None:
        gone = set(keys)
        return self._change(
            name,
            lambda row: dataclasses.replace(
                row, tags={k: v for k, v in row.tags.items() if k not in gone}
            ),
        )

    # -- history and actions -------------------------------------------------------------------

    def add_history(self, history: Sequence[HistoryRow], once: str | None = None) -> bool:
        async def attempt() -> bool:
            writes = []
            if once is not None:
                slot = f"r.{name_key(once)}"
                expect = await revision(self._conn, _BUCKET, slot)  # before the look
                if await load(self._conn, _BUCKET, slot) is not None:
                    return False
                at = max((h.timestamp_ms for h in history), default=0)
                writes.append(Write(slot, orjson.dumps({"timestamp_ms": at}), expect))
            await commit(self._conn, _BUCKET, [*writes, *await self._history_writes(history)])
            return True

        return self._conn.run(self._transaction(attempt))

    def prune_history(self, before_ms: int) -> int:
        async def prune() -> int:
            items = await self._history.all()
            old = [key for key, item in items.items() if item["timestamp_ms"] < before_ms]
            recorded = await scan(self._conn, _BUCKET, "r.*")
            done = [key for key, item in recorded.items() if item["timestamp_ms"] < before_ms]
            await self._history.forget(old + done)
            return len(old)

        return self._conn.run(prune())

    def pending_actions(self, limit: int = 100) -> Sequence[tuple[int, str, bytes]]:
        records = self._conn.run(scan(self._conn, _BUCKET, "x.*")).values()
        pending = sorted((r["id"], r["key"], base64.b64decode(r["payload"])) for r in records)
        return pending[:limit]

    def actions_done(self, ids: Sequence[int]) -> None:
        done = set(ids)

        async def forget() -> None:
            records = await scan(self._conn, _BUCKET, "x.*")
            writes = [Write(key, None) for key, record in records.items() if record["id"] in done]
            for start in range(0, len(writes), MAX_BATCH):
                await commit(self._conn, _BUCKET, writes[start : start + MAX_BATCH])

        self._conn.run(forget())

    def history(
        self,
        alarm_name: str | None = None,
        item_type: str | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
        newest_first: bool = True,
        after_seq: int | None = None,
        limit: int = 100,
    ) -> Sequence[HistoryRow]:
        items = [HistoryRow(**r) for r in self._conn.run(self._history.all()).values()]

        def wanted(h: HistoryRow) -> bool:
            return (
                (alarm_name is None or h.alarm_name == alarm_name)
                and (item_type is None or h.item_type == item_type)
                and (start_ms is None or h.timestamp_ms >= start_ms)
                and (end_ms is None or h.timestamp_ms < end_ms)
                and (
                    after_seq is None or (h.seq < after_seq if newest_first else h.seq > after_seq)
                )
            )

        chosen = sorted(filter(wanted, items), key=lambda h: h.seq, reverse=newest_first)
        return chosen[:limit]

    def close(self) -> None:
        self._conn.close()
