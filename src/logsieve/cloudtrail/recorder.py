"""The recorder: API calls in, CloudTrail events out, off the request path.

``record`` only appends the call to a queue (the request thread never waits for a disk);
one thread drains it in batches: builds the records, appends them to the event history in one
transaction, and delivers them to each logging trail's log group. Deliveries go straight to
the Logs service (``deliver``), not through the HTTP front, so they are not API calls and are
never recorded themselves: no loop, by construction.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from logsieve.errors import ServiceError
from logsieve.storage import STORE_ERRORS
from logsieve.storage.trails import EventRow, TrailStore

from . import records, selectors
from .calls import ApiCall
from .lookup import HISTORY_MS
from .service import CloudTrailService, logged_at

log = logging.getLogger("logsieve.cloudtrail")

#: (group, stream, [(timestamp ms, message)]) -> None; raises ServiceError when it cannot.
Deliver = Callable[[str, str, list[tuple[int, str]]], None]

MAX_QUEUED = 100_000  # calls beyond this while the store is stuck are dropped (and logged)
BATCH = 1000
MAX_PUT_BYTES = 1_000_000
EXPIRE_EVERY = 3600.0  # seconds between passes forgetting events older than 90 days


class Recorder:
    def __init__(
        self,
        service: CloudTrailService,
        store: TrailStore,
        identities: Callable[[str], dict[str, Any]],
        deliver: Deliver,
        interval: float = 0.2,
    ) -> None:
        self.service = service
        self.store = store
        self.identities = identities
        self.deliver = deliver
        self.interval = interval
        self._queue: collections.deque[ApiCall] = collections.deque()
        self._wake = threading.Event()
        self._stopping = False
        self._dropped = 0
        self._thread = threading.Thread(target=self._run, name="cloudtrail-recorder", daemon=True)

    def start(self) -> Recorder:
        self._thread.start()
        return self

    @staticmethod
    def wants(service: str, operation: str) -> bool:
        """Whether the call is a management event (cheap: the request path asks first)."""
        return records.is_recorded(service, operation)

    def record(self, call: ApiCall) -> None:
        if len(self._queue) >= MAX_QUEUED:
            self._dropped += 1
            return
        self._queue.append(call)
        if len(self._queue) >= BATCH:
            self._wake.set()

    def close(self) -> None:
        """Record what is queued, then stop."""
        self._stopping = True
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        expired_at = 0.0
        while True:
            if time.monotonic() - expired_at > EXPIRE_EVERY:
                expired_at = time.monotonic()
                try:  # the event history keeps 90 days, as LookupEvents on AWS
                    self.store.expire_events(int((time.time() * 1000) - HISTORY_MS))
                except Exception:
                    log.exception("event=cloudtrail_expire_failed")
            self._wake.wait(self.interval)
            self._wake.clear()
            try:
                while self._queue:
                    self.flush_once()
            except STORE_ERRORS as error:  # a full disk, a cluster away: said in one line
                log.warning("event=cloudtrail_record_failed error=%s", error)
            except Exception:  # keep recording; the next pass retries what it can
                log.exception("event=cloudtrail_record_failed")
            if self._dropped:
                log.warning("event=cloudtrail_calls_dropped count=%d", self._dropped)
                self._dropped = 0
            if self._stopping and not self._queue:
                return

    def flush_once(self) -> None:
        calls = []
        while self._queue and len(calls) < BATCH:
            calls.append(self._queue.popleft())
        built = []
        for call in calls:  # one call that cannot be recorded never costs the others theirs
            try:
                record, row = records.build(
                    call, self.identities(call.access_key_id), self.service.account_id
                )
            except Exception:
                log.exception(
                    "event=cloudtrail_record_failed service=%s operation=%s",
                    call.service, call.operation,
                )  # fmt: skip
                continue
            built.append((record, row, call.time * 1000))
        self.store.append_events([row for _, row, _ in built])
        self._deliver(built)

    def _deliver(self, built: list[tuple[dict[str, Any], EventRow, float]]) -> None:
        stream = f"{self.service.account_id}_CloudTrail_{self.service.region}"
        for trail, group in self.service.deliveries():
            events = [
                (row.time_ms, row.record)
                for record, row, made in built
                if logged_at(trail, made) and selectors.selects(trail.event_selectors, record)
            ]
            if not events:
                continue
            try:
                self.deliver(group, stream, events)
            except ServiceError as error:
                self.service.delivered(trail.arn, error.code)
                log.warning(
                    "event=cloudtrail_delivery_failed trail=%s group=%s code=%s",
                    trail.name, group, error.code,
                )  # fmt: skip
            else:
                self.service.delivered(trail.arn, None)


def logs_deliverer(operations: dict[str, Any]) -> Deliver:
    """Delivery through the Logs service's operations: the stream is created on first use as
    CloudTrail does; the group is the trail owner's to create (a missing one fails delivery)."""
    put = operations["PutLogEvents"]
    create_stream = operations["CreateLogStream"]

    def deliver(group: str, stream: str, events: list[tuple[int, str]]) -> None:
        for batch in _batches(sorted(events)):
            _put(group, stream, batch)

    def _put(group: str, stream: str, batch: list[dict[str, Any]]) -> None:
        params = {"logGroupName": group, "logStreamName": stream, "logEvents": batch}
        try:
            put(params)
        except ServiceError as error:
            if error.code != "ResourceNotFoundException" or "stream" not in error.message:
                raise
            try:
                create_stream({"logGroupName": group, "logStreamName": stream})
            except ServiceError as created:
                if created.code != "ResourceAlreadyExistsException":
                    raise
            put(params)

    return deliver


def _batches(events: list[tuple[int, str]]) -> list[list[dict[str, Any]]]:
    """PutLogEvents-sized batches (CloudTrail records are at most 256 KB each)."""
    batches: list[list[dict[str, Any]]] = [[]]
    size = 0
    for timestamp, message in events:
        cost = len(message.encode("utf-8")) + 26
        if batches[-1] and (size + cost > MAX_PUT_BYTES or len(batches[-1]) >= 10_000):
            batches.append([])
            size = 0
        batches[-1].append({"timestamp": timestamp, "message": message})
        size += cost
    return [batch for batch in batches if batch]


def group_exists(operations: dict[str, Any]) -> Callable[[str], bool]:
    describe = operations["DescribeLogGroups"]

    def exists(name: str) -> bool:
        found = describe({"logGroupNamePrefix": name, "limit": 1}) or {}
        return any(g.get("logGroupName") == name for g in found.get("logGroups", []))

    return exists
