"""Metric filters as consumers of the event log: one counter per log group that has any.

Each counter follows its group's events from a position kept in the metric store, and
commits what a window of events added to the metrics *together with* the position after it,
in one transaction (``MetricStore.put(observations, progress)``). A crash before the commit
loses nothing (the window is read again from the old position); a crash after it repeats
nothing (the window is behind the stored position): no event is counted twice, whatever is
redelivered. Group ids are never reused, so the position is keyed by the group's id.

Log groups of Lambda functions (``/aws/lambda/...``) are also read for Embedded Metric Format
events, which publish their metrics as CloudWatch extracts them from Lambda's logs.

A group's filters are read at every window, so a filter created or changed meanwhile applies
to the next window, and only to events ingested after its creation (``metrics.filters``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from concurrent.futures import Executor
from typing import Any

from logsieve.cluster import Fence, Ownership, working
from logsieve.metrics.filters import CompiledFilter, evaluate, observations
from logsieve.storage import LogsStore
from logsieve.storage.metrics import MetricStore

from .background import Background
from .event_cache import EventCache
from .supervised import supervised

log = logging.getLogger("logsieve.metrics")

__all__ = ["MetricCounting", "progress_key"]

MAX_FILTERS = 100
WINDOW_EVENTS = 50_000
#: Log groups whose Embedded Metric Format events publish metrics (Lambda's, as on AWS).
EMF_PREFIX = "/aws/lambda/"


def progress_key(group_id: int) -> str:
    return f"metric-filters/{group_id}"


class GroupCounter:
    """One log group's metric filters, applied window by window."""

    def __init__(self, group_id: int, group_name: str, owner: MetricCounting) -> None:
        self.group_id = group_id
        self.group_name = group_name
        self.owner = owner
        self.wake = asyncio.Event()
        self.wake.set()
        self.embedded = group_name.startswith(EMF_PREFIX)
        self._compiled: dict[tuple[str, str, str, int], CompiledFilter] = {}

    async def run(self, fence: Fence | None = None) -> None:
        loop = asyncio.get_running_loop()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self.owner.poll_seconds)
            self.wake.clear()
            more = True
            while more:
                with working(fence):  # a planned handover stops counting between windows
                    more = await loop.run_in_executor(self.owner.reads, self.count_window, fence)

    def filters(self) -> list[CompiledFilter]:
        """The group's filters now, compiled once per definition."""
        found = self.owner.logs.metric_filters(self.group_name, None, None, None, MAX_FILTERS)
        compiled = {}
        for item in found:
            key = (item.name, item.pattern, repr(item.transformations), item.creation_time)
            compiled[key] = self._compiled.get(key) or CompiledFilter(item)
        self._compiled = compiled
        return list(compiled.values())

    def count_window(self, fence: Fence | None = None) -> bool:
        """Count one window of new events; whether a full window was read (more may wait).
        With ``fence``, only while this node holds the group's counting."""
        key = progress_key(self.group_id)
        position = self.owner.metrics.progress(key) or 0
        events = self.owner.logs.read_after(position, self.owner.window, self.group_id)
        if not events:
            return False
        cache = self.owner.cache
        parse = None if cache is None else cache.known
        tally = evaluate(self.filters(), events, self.embedded, parse)
        if fence is not None:
            fence.check()
        self.owner.metrics.put(observations(tally), {key: events[-1][1]})
        return len(events) >= self.owner.window


class MetricCounting:
    """The counters of every log group with metric filters, kept in step with the store.

    ``apply`` runs on the event loop with what ``wanted`` read on a worker thread (the
    dispatcher does both whenever filters change);
    ``appended`` is called from request threads after each committed PutLogEvents batch.
    """

    def __init__(
        self,
        logs: LogsStore,
        metrics: MetricStore,
        reads: Executor,
        window: int = WINDOW_EVENTS,
        cache: EventCache | None = None,
        ownership: Ownership | None = None,
        poll_seconds: float | None = None,
    ) -> None:
        self.logs = logs
        #: which node counts which group (None: this one counts them all); on a shared
        #: engine, counters also look for new events every ``poll_seconds``
        self.ownership = ownership
        self.poll_seconds = poll_seconds
        #: the subscriptions' parsed events: a window's events they already parsed (field
        #: split, JSON document, alignments) are read from there
        self.cache = cache
        self.metrics = metrics
        self.reads = reads
        self.window = window
        self._loop: asyncio.AbstractEventLoop | None = None
        self._counters: dict[int, tuple[GroupCounter, asyncio.Task[None]]] = {}
        self._seen: set[int] = set()  # groups appended to that were looked at once
        self._background = Background()

    def reconcile(self) -> None:
        """Start a counter for each group that has metric filters, stop the others."""
        self.apply(self.wanted())

    async def refresh(self) -> None:
        """``reconcile`` with the store read on a worker thread: a shared engine's read may
        wait seconds for a cluster that does not answer, and the event loop must not."""
        self.apply(await asyncio.to_thread(self.wanted))

    def wanted(self) -> dict[int, str]:
        """The groups that need a counter, by id (read from the store: any thread)."""
        groups: dict[int, str] = {}
        for item in self.logs.metric_filters(None, None, None, None, 1_000_000):
            if item.group_name not in groups.values():
                group = self.logs.group(item.group_name)
                if group is not None:
                    groups[group.id] = group.name
        for group in self.logs.groups(EMF_PREFIX, None, None, None, 1_000_000):
            groups[group.id] = group.name
        return groups

    def apply(self, groups: dict[int, str]) -> None:
        """Make the running counters those of ``groups`` (on the event loop)."""
        self._loop = asyncio.get_running_loop()
        for group_id, (_, task) in list(self._counters.items()):
            if group_id not in groups:
                task.cancel()
                del self._counters[group_id]
        for group_id, name in groups.items():
            if group_id in self._counters:
                self._counters[group_id][0].wake.set()
                continue
            counter = GroupCounter(group_id, name, self)
            task = asyncio.create_task(self._run(counter), name=f"metric filters {name}")
            self._counters[group_id] = (counter, task)

    def _run(self, counter: GroupCounter) -> Coroutine[Any, Any, None]:
        """A counter's task: on the node holding its lease only, when nodes share the work."""
        if self.ownership is None:
            return self._supervise(counter)
        name = progress_key(counter.group_id)
        return self.ownership.hold(name, lambda fence: self._supervise(counter, fence))

    async def _supervise(self, counter: GroupCounter, fence: Fence | None = None) -> None:
        """Run a counter; a fault restarts it from its committed position."""
        what = f"metric filter counting group={counter.group_name}"
        await supervised(lambda: counter.run(fence), what, counter.wake.set)

    def appended(self, group_id: int) -> None:
        loop = self._loop
        if loop is not None and (group_id in self._counters or group_id not in self._seen):
            loop.call_soon_threadsafe(self._wake, group_id)

    def _wake(self, group_id: int) -> None:
        entry = self._counters.get(group_id)
        if entry is not None:
            entry[0].wake.set()
        elif group_id not in self._seen:
            self._seen.add(group_id)
            # perhaps a new Lambda function's log group (a new counter reads from its start)
            self._background.spawn(self._refresh_logged(), "metric filters refresh")

    async def _refresh_logged(self) -> None:
        try:
            await self.refresh()
        except Exception:  # the next change or follow round tries again
            log.exception("reconciling metric filters failed")

    async def stop(self) -> None:
        tasks = [task for _, task in self._counters.values()] + self._background.running()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._counters.clear()
