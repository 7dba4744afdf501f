"""A supervised job restarts after a fault: a store failure is one line, a bug a traceback,
and the pauses grow while the faults repeat."""

from __future__ import annotations

import asyncio
import logging
import sqlite3

import pytest

from logsieve.cluster import LeaseLost
from logsieve.storage.jetstream import ClusterUnavailable
from logsieve.subscriptions import supervised as module
from logsieve.subscriptions.supervised import supervised


def _run_until(faults: list[BaseException], first_pause: float = 0.001) -> list[str]:
    """Supervise a job raising ``faults`` in turn, then lose its lease; the restarts seen."""
    restarts: list[str] = []

    async def job() -> None:
        raise faults.pop(0) if faults else LeaseLost("gone")

    with pytest.raises(LeaseLost):
        asyncio.run(supervised(job, "job x", lambda: restarts.append("r"), first_pause))
    return restarts


def test_store_failures_are_one_line_and_bugs_keep_their_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger=module.__name__)
    faults: list[BaseException] = [
        sqlite3.OperationalError("database or disk is full"),
        ClusterUnavailable("the NATS cluster at nats://x is unreachable"),
        KeyError("a bug"),
    ]
    assert len(_run_until(faults)) == 3
    store, cluster, bug = caplog.records
    assert store.levelname == "WARNING" and store.exc_info is None
    assert "job x: the store failed (database or disk is full)" in store.getMessage()
    assert cluster.exc_info is None and "unreachable" in cluster.getMessage()
    assert bug.levelname == "ERROR" and bug.exc_info is not None
    assert "job x failed; restarting" in bug.getMessage()


def test_pauses_double_while_faults_repeat_up_to_a_cap(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(module, "LONGEST_PAUSE_SECONDS", 0.004)
    caplog.set_level(logging.WARNING, logger=module.__name__)
    _run_until([sqlite3.OperationalError("full") for _ in range(5)])
    pauses = [record.getMessage().rsplit("retrying in ", 1)[1] for record in caplog.records]
    assert pauses == ["0.001 s", "0.002 s", "0.004 s", "0.004 s", "0.004 s"]


def test_cancelling_stops_it_at_once() -> None:
    async def main() -> None:
        started = asyncio.Event()

        async def job() -> None:
            started.set()
            await asyncio.sleep(60)

        task = asyncio.create_task(supervised(job, "job", lambda: None))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
