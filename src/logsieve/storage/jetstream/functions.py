"""Lambda functions on JetStream, as plain data: a JSON record per function in the KV bucket
``<namespace>_functions`` (key ``f.<hex name>``) and each code version's zip in the object
store ``<namespace>_function_code`` (object ``<name>/<version>``; objects are chunked, so a
package may exceed the server's message size).

What a record means is the Lambda service's business (``lambdas/store_jetstream.py`` turns
these dicts into ``FunctionRecord``s and unpacks the zips); this module only stores them, and
reports every change another node makes through :meth:`watch`, in the bucket's order. Reads
go through the stream's leader (``records.load``/``scan``), so a node reads its own writes.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Collection
from typing import Any

import orjson
from nats.errors import TimeoutError as NatsTimeout
from nats.js import api
from nats.js.errors import BadRequestError, BucketNotFoundError, NotFoundError, ObjectNotFoundError
from nats.js.object_store import ObjectStore

from .atomic import open_bucket
from .options import JetStreamOptions
from .records import load, name_key, scan

__all__ = ["FunctionChange", "JetStreamFunctionRecords"]

log = logging.getLogger(__name__)

_BUCKET = "functions"
_CODE = "function_code"
_PREFIX = "f."
_WATCH_WAIT = 1.0  # how long one watch poll waits; also how soon close() stops the watcher

# (function name, its record, or None once deleted)
FunctionChange = Callable[[str, dict[str, Any] | None], None]


def _key(name: str) -> str:
    return _PREFIX + name_key(name)


def _name(key: str) -> str:
    return bytes.fromhex(key.removeprefix(_PREFIX)).decode("utf-8")


async def _next(watcher: Any) -> Any:
    """The watcher's next entry, or None after ``_WATCH_WAIT`` s without one."""
    try:
        return await watcher.updates(_WATCH_WAIT)
    except (TimeoutError, NatsTimeout):
        return None


class JetStreamFunctionRecords:
    """Function records and code packages shared by every node of a deployment."""

    def __init__(self, options: JetStreamOptions) -> None:
        self._conn, self._kv = open_bucket(options, "functions", _BUCKET, atomic=False)
        try:
            self._code: ObjectStore = self._conn.setup(self._open_code())
        except BaseException:
            self._conn.close()
            raise
        # The newest bucket revision seen per key (written here or watched): a watched change
        # older than that is not reported, so a node never steps back to a record it replaced.
        self._seen: dict[str, int] = {}
        self._seen_lock = threading.Lock()
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    async def _open_code(self) -> ObjectStore:
        name = self._conn.name(_CODE)
        try:
            return await self._conn.retrying(self._conn.js.object_store, name)
        except BucketNotFoundError:
            config = api.ObjectStoreConfig(replicas=self._conn.options.replicas)
            try:
                return await self._conn.retrying(
                    self._conn.js.create_object_store, name, config=config
                )
            except BadRequestError:  # another node created it first
                return await self._conn.retrying(self._conn.js.object_store, name)

    def _newer(self, key: str, revision: int) -> bool:
        with self._seen_lock:
            if revision <= self._seen.get(key, 0):
                return False
            self._seen[key] = revision
            return True

    # --- records --------------------------------------------------------------------------

    def all(self) -> dict[str, dict[str, Any]]:
        """Every function's record, by name."""
        found = self._conn.run(scan(self._conn, _BUCKET, _PREFIX + "*"))
        return {_name(key): record for key, record in found.items()}

    def get(self, name: str) -> dict[str, Any] | None:
        found = self._conn.run(load(self._conn, _BUCKET, _key(name)))
        if found is None:
            return None
        self._newer(_key(name), found[1])
        return found[0]

    def put(self, name: str, record: dict[str, Any]) -> None:
        key = _key(name)
        revision = self._conn.run(self._conn.retrying(self._kv.put, key, orjson.dumps(record)))
        self._newer(key, revision)

    def delete(self, name: str) -> None:
        """Delete the record, then every code package of the function."""
        key = _key(name)
        subject = f"$KV.{self._conn.name(_BUCKET)}.{key}"
        ack = self._conn.run(
            self._conn.retrying(
                self._conn.js.publish, subject, b"", headers={"KV-Operation": "DEL"}
            )
        )
        self._newer(key, ack.seq)
        self.discard_code(name, ())

    # --- code packages --------------------------------------------------------------------

    def put_code(self, name: str, version: str, archive: bytes) -> None:
        self._conn.run(self._conn.retrying(self._code.put, f"{name}/{version}", archive))

    def get_code(self, name: str, version: str) -> bytes | None:
        """The zip of a code version, or None when it is gone (the function was deleted)."""
        try:
            result = self._conn.run(self._code.get(f"{name}/{version}"))
        except (ObjectNotFoundError, NotFoundError):
            return None
        return bytes(result.data or b"")

    def discard_code(self, name: str, keep: Collection[str]) -> None:
        """Delete the function's packages other than the versions ``keep``."""
        wanted = {f"{name}/{version}" for version in keep}
        for info in self._conn.run(self._list_code()):
            if info.name.startswith(f"{name}/") and info.name not in wanted:
                with contextlib.suppress(ObjectNotFoundError, NotFoundError):  # gone already
                    self._conn.run(self._code.delete(info.name))

    async def _list_code(self) -> list[Any]:
        try:
            return list(await self._code.list(ignore_deletes=True))
        except NotFoundError:  # raised for an empty store
            return []

    # --- changes made elsewhere -----------------------------------------------------------

    def watch(self, changed: FunctionChange) -> None:
        """Call ``changed`` (on a thread of its own) for each record written or deleted from
        now on, and once for each existing record; changes this object made, or older than
        what it has read, are left out."""
        watcher = self._conn.run(self._kv.watch(_PREFIX + "*"))
        self._watcher = threading.Thread(
            target=self._follow, args=(watcher, changed), name="functions-watch", daemon=True
        )
        self._watcher.start()

    def _follow(self, watcher: Any, changed: FunctionChange) -> None:
        while not self._stop.is_set():
            try:
                entry = self._conn.run(_next(watcher), _WATCH_WAIT + 5)
            except Exception as exc:  # the cluster away for a while: nats-py reconnects
                if not self._stop.is_set():
                    log.warning("event=function_watch_error error=%s", exc)
                    self._stop.wait(_WATCH_WAIT)
                continue
            if entry is None or not self._newer(entry.key, entry.revision):
                continue  # None: no change for a while, or the end of the initial values
            deleted = entry.operation is not None or not entry.value
            try:
                changed(_name(entry.key), None if deleted else orjson.loads(entry.value))
            except Exception:  # one bad record must not stop the others from arriving
                log.exception("event=function_change_failed key=%s", entry.key)

    def close(self) -> None:
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=_WATCH_WAIT + 6)
        self._conn.close()
