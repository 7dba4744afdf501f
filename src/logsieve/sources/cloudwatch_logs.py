"""``type = "cloudwatch-logs"``: pull log groups from a CloudWatch Logs API (read-only).

``log_groups`` are names, or prefixes ending in ``*`` (re-listed every ``discover_seconds``,
so new matching groups are picked up). Each group's position is a ``Seen`` window
(``cloudwatch_logs_seen``) committed with the events it admits: exactly once.

``mode = "poll"``: every ``poll_seconds``, FilterLogEvents over each group from ``lookback``
before the newest timestamp stored (CloudWatch makes events queryable late), every page,
deduplicated by event id. API calls per minute: ``groups x 60 / poll_seconds`` FilterLogEvents
(plus one per extra page of 10,000 events / 1 MB) and one DescribeLogGroups per entry of
``log_groups`` per ``discover_seconds``. An event whose timestamp is older than the lookback
when it becomes queryable is missed: raise ``lookback_seconds`` for late sources (VPC flow
logs: 600).

``mode = "live-tail"``: one StartLiveTail session per 10 groups; its results are written as
they come (about a second after ingestion). Sessions are renewed before AWS's 3-hour limit
(``session_seconds``) and after any error; each new session first runs one FilterLogEvents
pass over the window since the last stored event, so the reconnect leaves no gap, and so
does a sampled update (more than 500 events a second). Live tail results carry no event id:
they are recognised by a digest of stream, timestamp, ingestion time and message.

Throttling (ThrottlingException, LimitExceededException) is retried with backoff up to 10 s.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from starlette.routing import BaseRoute

from logsieve.config_values import Invalid, kind, show

from .base import Key, SourceContext, SourceKind, SourceSpec
from .cloudwatch_logs_seen import Pass, Seen, content_key
from .events import RemoteEvent
from .keys import AWS_KEYS, choice, seconds

__all__ = ["KIND", "CloudWatchLogsSource"]

log = logging.getLogger("logsieve.sources")

STARTED = "started"  # position key: the start time ("now" is fixed when the source first runs)
GROUP = "group:"  # position key prefix: one Seen window per remote log group
THROTTLED = frozenset({"ThrottlingException", "LimitExceededException", "TooManyRequests"})
MAX_BACKOFF_S = 10.0
SESSION_GROUPS = 10  # StartLiveTail takes at most 10 log groups
LIVE_WINDOW_MS = 120_000  # live tail: keys kept this long after their ingestion time
MAX_SESSION_S = 3 * 3600


def _error_code(error: Exception) -> str | None:
    response = getattr(error, "response", None)
    return response.get("Error", {}).get("Code") if isinstance(response, dict) else None


def _now_ms() -> int:
    return int(time.time() * 1000)


class CloudWatchLogsSource:
    def __init__(self, spec: SourceSpec, ctx: SourceContext) -> None:
        self.spec = spec
        self.ctx = ctx
        self.prefix: str = spec["into_prefix"]
        self.lookback_ms = int(spec["lookback_seconds"] * 1000)
        self.live = spec["mode"] == "live-tail"
        self._stop = threading.Event()
        self.calls = 0  # API calls made (the bench and tests read it)

    def routes(self) -> list[BaseRoute]:
        return []

    # --- the remote --------------------------------------------------------------------------

    def _client(self) -> Any:
        import boto3
        from botocore.config import Config

        session = boto3.session.Session(
            profile_name=self.spec["profile"], region_name=self.spec["region"]
        )
        # StartLiveTail goes to stream-logs.<region>.amazonaws.com; another endpoint (a
        # compatible server on a plain host:port) takes it at the endpoint itself.
        return session.client(
            "logs",
            endpoint_url=self.spec["endpoint_url"],
            config=Config(
                retries={"mode": "standard", "max_attempts": 2},
                inject_host_prefix=self.spec["endpoint_url"] is None,
                read_timeout=30,
            ),
        )

    def _call(self, method: Callable[..., Any], **params: Any) -> Any:
        """One API call; throttling answers are waited out with backoff (blocking)."""
        backoff = 0.2
        while True:
            self.calls += 1
            try:
                return method(**params)
            except Exception as error:
                if _error_code(error) not in THROTTLED or self._stop.is_set():
                    raise
                self.ctx.status.failed(error)
                time.sleep(backoff)
                backoff = min(MAX_BACKOFF_S, backoff * 2)

    def _groups(self, client: Any) -> dict[str, str]:
        """The remote groups ``log_groups`` names now: name -> ARN (no trailing ``:*``)."""
        found: dict[str, str] = {}
        for entry in self.spec["log_groups"]:
            prefix = entry[:-1] if entry.endswith("*") else entry
            request: dict[str, Any] = {"logGroupNamePrefix": prefix}
            while True:
                page = self._call(client.describe_log_groups, **request)
                for group in page["logGroups"]:
                    name = group["logGroupName"]
                    if entry.endswith("*") or name == entry:
                        arn = group.get("logGroupArn") or group["arn"].removesuffix(":*")
                        found[name] = arn
                token = page.get("nextToken")
                if not token or not entry.endswith("*"):
                    break
                request["nextToken"] = token
        return found

    # --- the run ----------------------------------------------------------------------------

    async def run(self) -> None:
        self._stop.clear()
        client = await asyncio.to_thread(self._client)
        positions = await asyncio.to_thread(self.ctx.positions)
        self.ctx.status.position = {k: v for k, v in positions.items() if k == STARTED}
        if STARTED not in positions:
            start = self.spec["start"]
            positions[STARTED] = str(_now_ms() if start == "now" else start)
            await self.ctx.write([], {STARTED: positions[STARTED]})
        started = int(positions[STARTED])
        window = LIVE_WINDOW_MS if self.live else self.lookback_ms
        seen: dict[str, Seen] = {}

        def seen_of(group: str) -> Seen:
            if group not in seen:
                seen[group] = Seen.load(positions.get(GROUP + group), started, window)
            return seen[group]

        try:
            while True:
                groups = await asyncio.to_thread(self._groups, client)
                if self.live:
                    await self._tail_round(client, groups, seen_of)
                else:
                    await self._poll_round(client, groups, seen_of)
        finally:
            self._stop.set()

    async def _poll_round(
        self, client: Any, groups: dict[str, str], seen_of: Callable[[str], Seen]
    ) -> None:
        """Poll every group every ``poll_seconds`` until it is time to list groups again."""
        until = time.monotonic() + self.spec["discover_seconds"]
        while True:
            began = time.time()
            for group in groups:
                await asyncio.to_thread(self._poll, client, group, seen_of(group), False)
            self.ctx.status.lag_seconds = round(time.time() - began, 3)
            if time.monotonic() >= until:
                return
            await asyncio.sleep(self.spec["poll_seconds"])

    def _poll(self, client: Any, group: str, seen: Seen, live: bool) -> int:
        """One FilterLogEvents pass over ``group``'s window; new events stored with the
        window (blocking). ``live``: keyed and ordered as live tail results are."""
        check = seen.begin()
        start = seen.floor - (self.lookback_ms if live else 0)
        request: dict[str, Any] = {"logGroupName": group, "startTime": max(0, start)}
        stored = 0
        while not self._stop.is_set():
            page = self._call(client.filter_log_events, **request)
            new = []
            for event in page["events"]:
                if live:
                    key = content_key(
                        event["logStreamName"], event["timestamp"], event["ingestionTime"],
                        event["message"],
                    )  # fmt: skip
                    order = event["ingestionTime"]
                else:
                    key, order = event["eventId"], event["timestamp"]
                if check.admit(key, order):
                    new.append(self._event(group, event))
            token = page.get("nextToken")
            if new or not token:
                check.forget_old()
                stored += self._write(group, seen, new)
            if not token:
                break
            request["nextToken"] = token
        return stored

    def _event(self, group: str, event: dict[str, Any]) -> RemoteEvent:
        return RemoteEvent(
            self.prefix + group, event["logStreamName"], event["timestamp"], event["message"]
        )

    def _write(self, group: str, seen: Seen, events: list[RemoteEvent]) -> int:
        position = seen.dump()
        count = self.ctx.write_now(events, {GROUP + group: position})
        self.ctx.status.position[GROUP + group] = f"high={seen.high} keys={len(seen.keys)}"
        return count

    # --- live tail ----------------------------------------------------------------------------

    async def _tail_round(
        self, client: Any, groups: dict[str, str], seen_of: Callable[[str], Seen]
    ) -> None:
        """Sessions over the groups until it is time to list them again (a changed list
        restarts the sessions; an unchanged one keeps them)."""
        names = sorted(groups)
        chunks = [names[i : i + SESSION_GROUPS] for i in range(0, len(names), SESSION_GROUPS)]
        tasks = [
            asyncio.create_task(self._tail_forever(client, {n: groups[n] for n in chunk}, seen_of))
            for chunk in chunks
        ]
        try:
            while True:
                await asyncio.sleep(self.spec["discover_seconds"])
                for task in tasks:
                    if task.done():
                        task.result()  # a failed session fails the run: supervised, retried
                if await asyncio.to_thread(self._groups, client) != groups:
                    return
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _tail_forever(
        self, client: Any, groups: dict[str, str], seen_of: Callable[[str], Seen]
    ) -> None:
        """Session after session; a failed one is retried with backoff (its gap is polled
        when the next one opens)."""
        backoff = 0.5
        while True:
            holder: list[Any] = []
            try:
                await asyncio.to_thread(self._session, client, groups, seen_of, holder)
                backoff = 0.5
            except Exception as error:
                self.ctx.status.failed(error)
                log.warning(
                    "live tail session failed source=%s error=%s retry_in=%.1fs",
                    self.spec.name, self.ctx.status.last_error, backoff,
                )  # fmt: skip
                await asyncio.sleep(backoff)
                backoff = min(MAX_BACKOFF_S * 3, backoff * 2)
            finally:
                for stream in holder:  # cancelled: end the session the thread is reading
                    stream.close()

    def _session(
        self,
        client: Any,
        groups: dict[str, str],
        seen_of: Callable[[str], Seen],
        holder: list[Any],
    ) -> None:
        """One live tail session (blocking): open it, cover the gap since the last stored
        event with a poll, then store its results until it is time to renew it."""
        response = self._call(client.start_live_tail, logGroupIdentifiers=list(groups.values()))
        stream = response["responseStream"]
        holder.append(stream)
        by_identifier = {arn: name for name, arn in groups.items()}
        by_identifier.update({name: name for name in groups})
        checks: dict[str, Pass] = {name: seen_of(name).begin() for name in groups}
        renew_at = time.monotonic() + self.spec["session_seconds"]
        try:
            for name in groups:  # opened first, polled second: nothing falls between
                self._poll(client, name, seen_of(name), True)
            for event in stream:
                if self._stop.is_set():
                    return
                update = event.get("sessionUpdate")
                if update is not None:
                    self._store_update(update, by_identifier, seen_of, checks)
                    if update.get("sessionMetadata", {}).get("sampled"):
                        for name in groups:  # live tail dropped some: fetch them
                            self._poll(client, name, seen_of(name), True)
                    self.ctx.status.lag_seconds = 0.0
                if time.monotonic() >= renew_at:
                    return  # before AWS's limit: the next session polls the gap
        except Exception as error:
            if "SessionTimeoutException" in str(error):
                return  # the limit came first: renewed like any other session end
            raise
        finally:
            stream.close()

    def _store_update(
        self,
        update: dict[str, Any],
        by_identifier: dict[str, str],
        seen_of: Callable[[str], Seen],
        checks: dict[str, Pass],
    ) -> None:
        found: dict[str, list[RemoteEvent]] = {}
        for result in update.get("sessionResults", []):
            identifier = result["logGroupIdentifier"]
            name = by_identifier.get(identifier) or by_identifier.get(
                identifier.rsplit("log-group:", 1)[-1].split(":", 1)[-1]
            )
            if name is None:
                continue
            key = content_key(
                result["logStreamName"], result["timestamp"], result["ingestionTime"],
                result["message"],
            )  # fmt: skip
            if checks[name].admit(key, result["ingestionTime"]):
                found.setdefault(name, []).append(self._event(name, result))
        for name, events in found.items():
            checks[name].forget_old()
            self._write(name, seen_of(name), events)


def _log_groups(value: Any) -> list[str]:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, str) and v.strip("*") for v in value)
    ):
        raise Invalid(
            f"must be a list of log group names or prefixes ending in * (got {show(value)})",
            'use e.g. ["/aws/clientvpn", "/aws/vpc/flow-*"]',
        )
    for entry in value:
        if "*" in entry[:-1]:
            raise Invalid(f"may have * only at the end (got {show(entry)})", "use a prefix*")
    return list(value)


def _start(value: Any) -> str | int:
    if value == "now":
        return "now"
    if isinstance(value, _dt.datetime):  # a TOML date-time
        moment = value
    elif isinstance(value, str):
        try:
            moment = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            moment = None
    else:
        moment = None
    if moment is None:
        raise Invalid(
            f'must be "now" or an ISO time (got {kind(value)} {show(value)})',
            'use e.g. "2026-12-01T00:00:00Z"',
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.UTC)
    return int(moment.timestamp() * 1000)


KIND = SourceKind(
    keys={
        "log_groups": Key(_log_groups, required=True),
        "mode": Key(choice("poll", "live-tail"), default="poll"),
        "start": Key(_start, default="now"),
        "poll_seconds": Key(seconds(0.2, 300), default=5.0),
        "lookback_seconds": Key(seconds(0, 86_400), default=300.0),
        "discover_seconds": Key(seconds(0.5, 3600), default=60.0),
        "session_seconds": Key(seconds(1, MAX_SESSION_S), default=MAX_SESSION_S - 300),
        **AWS_KEYS,
    },
    build=CloudWatchLogsSource,
    describe="log groups pulled from CloudWatch Logs (FilterLogEvents or StartLiveTail)",
)
