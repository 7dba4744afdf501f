"""Live tail sessions in process (the service over a real SQLite store), where the 3-hour
limit and the store can be made small or broken; the wire is covered in test_live_tail.py."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from logsieve.logs import LogsContext, LogsService
from logsieve.logs import live_tail as live_tail_module
from logsieve.storage import SqliteStore


@pytest.fixture
def service(tmp_path: Path) -> Any:
    store = SqliteStore(tmp_path / "logsieve.db")
    service = LogsService(LogsContext(store))
    service.operations["CreateLogGroup"]({"logGroupName": "g"})
    service.operations["CreateLogStream"]({"logGroupName": "g", "logStreamName": "s"})
    yield service
    store.close()


def put(service: Any, *messages: str) -> None:
    t = int(time.time() * 1000)
    service.operations["PutLogEvents"](
        {
            "logGroupName": "g",
            "logStreamName": "s",
            "logEvents": [{"timestamp": t, "message": m} for m in messages],
        }
    )


async def _run(stream: Any, during: Any = None) -> list[tuple[str, dict[str, Any]]]:
    out = []
    async for member, value in stream:
        out.append((member, value))
        if during is not None:
            await asyncio.get_running_loop().run_in_executor(None, during, len(out))
    return out


def test_a_session_ends_with_session_timeout_at_its_limit(service: Any) -> None:
    tail = service.live_tail
    tail.max_seconds, tail.update_seconds = 0.35, 0.1
    stream = service.operations["StartLiveTail"]({"logGroupIdentifiers": ["g"]})["responseStream"]
    started = time.monotonic()
    events = asyncio.run(_run(stream))
    assert 0.3 <= time.monotonic() - started < 2
    kinds = [member for member, _ in events]
    assert kinds[0] == "sessionStart" and kinds[-1] == "SessionTimeoutException"
    assert set(kinds[1:-1]) == {"sessionUpdate"} and len(kinds[1:-1]) == 3
    assert events[-1][1]["message"].startswith("Live Tail session has timed out after ")
    assert tail.active == 0


def test_more_than_500_events_a_second_are_sampled(service: Any) -> None:
    tail = service.live_tail
    tail.max_seconds, tail.update_seconds = 0.25, 0.1
    stream = service.operations["StartLiveTail"]({"logGroupIdentifiers": ["g"]})["responseStream"]

    def feed(seen: int) -> None:
        if seen == 1:  # after sessionStart
            put(service, *(f"m{i}" for i in range(1200)))

    updates = [v for m, v in asyncio.run(_run(stream, feed)) if m == "sessionUpdate"]
    full = [u for u in updates if u["sessionResults"]]
    assert len(full) == 1
    assert full[0]["sessionMetadata"] == {"sampled": True}
    assert len(full[0]["sessionResults"]) == live_tail_module.MAX_RESULTS
    numbers = [int(r["message"][1:]) for r in full[0]["sessionResults"]]
    assert numbers == sorted(numbers)  # a sample, still in order


def test_a_store_failure_ends_the_session_with_a_streaming_exception(service: Any) -> None:
    tail = service.live_tail
    tail.update_seconds = 0.05
    stream = service.operations["StartLiveTail"]({"logGroupIdentifiers": ["g"]})["responseStream"]

    def broken(*args: Any) -> Any:
        raise sqlite3.OperationalError("disk I/O error")

    service.ctx.store.read_after = broken
    events = asyncio.run(_run(stream))
    assert events[-1] == (
        "SessionStreamingException",
        {"message": "The Live Tail session was interrupted; start a new one."},
    )
    assert tail.active == 0
