"""FilterLogEvents paging over many chunks: the scan budget, page limits and tokens.

In process (the service over a real SQLite store) so the scan budget can be made small; the
wire behaviour is covered against the real server in test_api_events.py.
"""

from __future__ import annotations

import itertools
import random
from pathlib import Path
from typing import Any

import pytest

from logsieve.logs import LogsContext, LogsService
from logsieve.logs import reads as reads_module
from logsieve.storage import SqliteStore


@pytest.fixture
def ops(tmp_path: Path) -> Any:
    store = SqliteStore(tmp_path / "logsieve.db")
    t0 = 1_800_000_000_000
    service = LogsService(LogsContext(store, clock=lambda: t0 + 3_600_000))
    operations = service.operations
    operations["CreateLogGroup"]({"logGroupName": "g"})
    rng = random.Random(3)
    for name in ("a", "b", "c"):  # overlapping batches in three streams: many merge windows
        operations["CreateLogStream"]({"logGroupName": "g", "logStreamName": name})
        for batch in range(6):
            stamps = sorted(t0 + rng.randrange(0, 1000) for _ in range(rng.randrange(1, 40)))
            events = [
                {"timestamp": ts, "message": f"{name}{batch}.{i} {'hit' if i % 3 else 'miss'}"}
                for i, ts in enumerate(stamps)
            ]
            operations["PutLogEvents"](
                {"logGroupName": "g", "logStreamName": name, "logEvents": events}
            )
    yield operations
    store.close()


def all_pages(ops: Any, **params: Any) -> tuple[list[str], int]:
    messages: list[str] = []
    for calls in itertools.count(1):
        page = ops["FilterLogEvents"]({"logGroupName": "g", **params})
        messages += [e["message"] for e in page["events"]]
        if "nextToken" not in page:
            return messages, calls
        params["nextToken"] = page["nextToken"]
    raise AssertionError("unreachable")


@pytest.mark.parametrize("budget", [1, 7, 50, 10_000])
@pytest.mark.parametrize("limit", [1, 5, 10_000])
def test_pages_cover_every_match_once_in_order(
    ops: Any, monkeypatch: pytest.MonkeyPatch, budget: int, limit: int
) -> None:
    expected, _ = all_pages(ops, filterPattern="hit")
    assert len(expected) > 50
    monkeypatch.setattr(reads_module, "SCAN_BUDGET", budget)
    got, calls = all_pages(ops, filterPattern="hit", limit=limit)
    assert got == expected
    assert calls >= len(expected) / limit


def test_a_spent_budget_hands_out_a_token_even_with_no_match(
    ops: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reads_module, "SCAN_BUDGET", 10)
    page = ops["FilterLogEvents"]({"logGroupName": "g", "filterPattern": "nothing-matches"})
    assert page["events"] == [] and "nextToken" in page
    got, calls = all_pages(ops, filterPattern="nothing-matches")
    assert got == [] and calls > 10
