"""``AlarmStore`` (CloudWatch alarms) on JetStream: one KV bucket, atomic batches.

Keys (names hex-encoded): ``a.<name>`` an alarm, ``h.<seq>`` a history item (kept after its
alarm, as on AWS), ``x.<id>`` a pending action with ``xk.<key>`` its key while it waits,
``once.<key>`` an action recorded in the history, ``xc.<key>`` an action ``storage copy``
brought here (so a re-run does not queue it again). A state change, its history items and its
actions are one atomic batch conditional on the alarm's revision, so an evaluation racing a
PutMetricAlarm (here or on another node) is dropped or retried, never half-written.

History and listings scan the bucket (alarms are few; history is kept two weeks).
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson
from nats.js.errors import KeyWrongLastSequenceError

from ..alarms import AlarmRow, HistoryRow, StateChange
from .atomic import MAX_BATCH, Write, commit, open_bucket
from .options import JetStreamOptions
from .records import absent, id_key, load, name_key, revision, scan

__all__ = ["JetStreamAlarmStore"]

_BUCKET = "alarms"


def _alarm_key(name: str) -> str:
    return f"a.{name_key(name)}"


def _dump(row: AlarmRow | HistoryRow) -> bytes:
    return orjson.dumps(dataclasses.asdict(row))


class JetStreamAlarmStore:
    """``AlarmStore`` in the bucket ``<namespace>_alarms``."""

    def __init__(self, options: JetStreamOptions) -> None:
        self._conn, self._kv = open_bucket(options, "alarms", _BUCKET)

    # -- plumbing ----------------------------------------------------------------------------

    def _load(self, key: str) -> tuple[dict[str, Any], int] | None:
        return self._conn.run(load(self._conn, _BUCKET, key))

    def _alarm(self, name: str) -> tuple[AlarmRow, int] | None:
        found = self._load(_alarm_key(name))
        return (AlarmRow(**found[0]), found[1]) if found else None

    def _next(self, counter: str) -> int:
        return self._conn.run(self._conn.next_id(counter))

    def _absent(self, key: str) -> int | None:
        """The revision to expect for creating ``key``; None if it exists."""
        return self._conn.run(absent(self._conn, _BUCKET, key))

    def _history_writes(self, history: Sequence[HistoryRow]) -> list[Write]:
        writes = []
        for item in history:
            seq = self._next("alarm_history")
            stored = dataclasses.replace(item, seq=seq)
            writes.append(Write(f"h.{id_key(seq)}", _dump(stored), 0))
        return writes

    def _retry(self, attempt: Callable[[], tuple[list[Write], Any]]) -> Any:
        while True:
            writes, result = attempt()
            try:
                for start in range(0, len(writes), MAX_BATCH):
                    chunk = writes[start : start + MAX_BATCH]
                    self._conn.run(commit(self._conn, _BUCKET, chunk))
            except KeyWrongLastSequenceError:
                continue
            return result

    def _change(self, name: str, change: Callable[[AlarmRow], AlarmRow]) -> AlarmRow | None:
        def attempt() -> tuple[list[Write], AlarmRow | None]:
            found = self._alarm(name)
            if found is None:
                return [], None
            row = change(found[0])
            return [Write(_alarm_key(name), _dump(row), found[1])], row

        return self._retry(attempt)

    # -- alarms ------------------------------------------------------------------------------

    def put_alarm(self, row: AlarmRow, history: Sequence[HistoryRow] = ()) -> AlarmRow:
        def attempt() -> tuple[list[Write], AlarmRow]:
            key = _alarm_key(row.name)
            found = self._alarm(row.name)
            if found is None:
                stored = dataclasses.replace(row, seq=self._next(_BUCKET))
                expect = self._conn.run(revision(self._conn, _BUCKET, key))
            else:
                stored = dataclasses.replace(
                    found[0], config=row.config, config_updated_ms=row.config_updated_ms
                )
                expect = found[1]
            return [Write(key, _dump(stored), expect), *self._history_writes(history)], stored

        return self._retry(attempt)

    def get_alarm(self, name: str) -> AlarmRow | None:
        found = self._alarm(name)
        return found[0] if found else None

    def list_alarms(
        self, after_name: str | None = None, limit: int | None = None, prefix: str | None = None
    ) -> Sequence[AlarmRow]:
        rows = [AlarmRow(**r) for r in self._conn.run(scan(self._conn, _BUCKET, "a.>")).values()]
        rows = [
            row
            for row in sorted(rows, key=lambda row: row.name)
            if (after_name is None or row.name > after_name)
            and (prefix is None or row.name.startswith(prefix))
        ]
        return rows if limit is None else rows[:limit]

    def delete_alarms(self, names: Sequence[str], history: Sequence[HistoryRow] = ()) -> list[str]:
        def attempt() -> tuple[list[Write], list[str]]:
            writes, deleted = [], []
            for name in dict.fromkeys(names):
                found = self._alarm(name)
                if found is not None:
                    writes.append(Write(_alarm_key(name), None, found[1]))
                    deleted.append(name)
            kept = [item for item in history if item.alarm_name in deleted]
            return writes + self._history_writes(kept), deleted

        return self._retry(attempt)

    def set_state(
        self, name: str, change: StateChange, history: Sequence[HistoryRow] = ()
    ) -> AlarmRow | None:
        def attempt() -> tuple[list[Write], AlarmRow | None]:
            found = self._alarm(name)
            if found is None:
                return [], None
            row, rev = found
            if change.config_updated_ms is not None and change.config_updated_ms != (
                row.config_updated_ms
            ):
                return [], None
            moved = change.state_value != row.state_value
            new = dataclasses.replace(
                row,
                state_value=change.state_value,
                state_reason=change.state_reason,
                state_reason_data=change.state_reason_data,
                state_updated_ms=change.at_ms,
                state_transitioned_ms=change.at_ms if moved else row.state_transitioned_ms,
            )
            writes = [Write(_alarm_key(name), _dump(new), rev), *self._history_writes(history)]
            for key, payload in change.actions:
                writes += self._action_writes(key, payload)
            return writes, new

        return self._retry(attempt)

    def _action_writes(self, key: str, payload: bytes) -> list[Write]:
        """The writes making an action pending; none if its key is already waiting."""
        marker = f"xk.{name_key(key)}"
        expect = self._absent(marker)
        if expect is None:
            return []
        action_id = self._next("alarm_actions")
        record = {"key": key, "payload": base64.b64encode(payload).decode("ascii")}
        return [
            Write(marker, orjson.dumps({"id": action_id}), expect),
            Write(f"x.{id_key(action_id)}", orjson.dumps(record), 0),
        ]

    def set_config(self, name: str, config: Mapping[str, Any]) -> AlarmRow | None:
        return self._change(name, lambda row: dataclasses.replace(row, config=dict(config)))

    def tag(self, name: str, tags: Mapping[str, str]) -> AlarmRow | None:
        return self._change(name, lambda row: dataclasses.replace(row, tags={**row.tags, **tags}))

    def untag(self, name: str, keys: Sequence[str]) -> AlarmRow | None:
        return self._change(
            name,
            lambda row: dataclasses.replace(
                row, tags={k: v for k, v in row.tags.items() if k not in keys}
            ),
        )

    # -- history and actions -----------------------------------------------------------------

    def add_history(self, history: Sequence[HistoryRow], once: str | None = None) -> bool:
        def attempt() -> tuple[list[Write], bool]:
            writes = []
            if once is not None:
                marker = f"once.{name_key(once)}"
                expect = self._absent(marker)
                if expect is None:
                    return [], False
                writes.append(Write(marker, b"{}", expect))
            return writes + self._history_writes(history), True

        return self._retry(attempt)

    def _all_history(self) -> list[HistoryRow]:
        found = self._conn.run(scan(self._conn, _BUCKET, "h.>"))
        return [HistoryRow(**record) for record in found.values()]  # seq order

    def prune_history(self, before_ms: int) -> int:
        old = [item for item in self._all_history() if item.timestamp_ms < before_ms]
        writes = [Write(f"h.{id_key(item.seq)}", None) for item in old]
        self._retry(lambda: (writes, None))
        return len(old)

    def pending_actions(self, limit: int = 100) -> Sequence[tuple[int, str, bytes]]:
        found = self._conn.run(scan(self._conn, _BUCKET, "x.>"))
        return [
            (int(key[2:]), r["key"], base64.b64decode(r["payload"]))
            for key, r in list(found.items())[:limit]
        ]

    def actions_done(self, ids: Sequence[int]) -> None:
        writes = []
        for action_id in ids:
            found = self._load(f"x.{id_key(action_id)}")
            if found is not None:
                writes.append(Write(f"x.{id_key(action_id)}", None))
                writes.append(Write(f"xk.{name_key(found[0]['key'])}", None))
        self._retry(lambda: (writes, None))

    def add_copied_actions(self, actions: Sequence[tuple[str, bytes]]) -> int:
        return sum(self._add_copied(key, payload) for key, payload in actions)

    def _add_copied(self, key: str, payload: bytes) -> bool:
        """One copied action, with its ``xc.`` marker in the same atomic batch."""

        def attempt() -> tuple[list[Write], bool]:
            marker = f"xc.{name_key(key)}"
            expect = self._absent(marker)
            if expect is None:
                return [], False
            pending = self._action_writes(key, payload)
            return [Write(marker, b"{}", expect), *pending], bool(pending)

        return self._retry(attempt)

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
        items = [
            item
            for item in self._all_history()
            if (alarm_name is None or item.alarm_name == alarm_name)
            and (item_type is None or item.item_type == item_type)
            and (start_ms is None or item.timestamp_ms >= start_ms)
            and (end_ms is None or item.timestamp_ms < end_ms)
        ]
        if newest_first:
            items.reverse()
        if after_seq is not None:
            items = [
                item
                for item in items
                if (item.seq < after_seq if newest_first else item.seq > after_seq)
            ]
        return items[:limit]

    def close(self) -> None:
        self._conn.close()
