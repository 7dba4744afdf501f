"""The ``DeadLetters`` contract, for every engine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from logsieve.storage import DeadLetter, DeadLetters
from logsieve.storage.factory import Stores


def letter(group: str = "/g", name: str = "f", events: int = 3) -> DeadLetter:
    return DeadLetter(
        id=0, created=1_000, group_name=group, filter_name=name, destination_arn="arn:x",
        log_stream="s", event_count=events, first_timestamp=1, last_timestamp=2, attempts=4,
        error="boom", data=b"\x1f\x8bpayload", redriven=None,
    )  # fmt: skip


@pytest.fixture
def letters(stores: Stores) -> Iterator[DeadLetters]:
    store = stores.dead_letters()
    yield store
    store.close()


def test_add_get_and_list_pending_in_order(letters: DeadLetters) -> None:
    first = letters.add(letter(events=3))
    second = letters.add(letter(events=5))
    assert second > first
    got = letters.get(first)
    assert got is not None and got.id == first and got.data == b"\x1f\x8bpayload"
    assert got.redriven is None and got.error == "boom" and got.attempts == 4
    assert [item.id for item in letters.list()] == [first, second]
    assert letters.get(second + 100) is None


def test_pending_events_counts_one_subscription_until_redriven(letters: DeadLetters) -> None:
    first = letters.add(letter(events=3))
    letters.add(letter(events=5))
    letters.add(letter(name="other", events=7))
    assert letters.pending_events("/g", "f") == 8
    letters.mark_redriven(first, 2_000)
    assert letters.pending_events("/g", "f") == 5
    assert [item.id for item in letters.list()] == [first + 1, first + 2]
    everything = letters.list(include_redriven=True)
    assert everything[0].redriven == 2_000 and len(everything) == 3


def test_record_failure_counts_attempts_and_keeps_the_last_error(letters: DeadLetters) -> None:
    found = letters.add(letter())
    letters.record_failure(found, "still broken")
    got = letters.get(found)
    assert got is not None and got.attempts == 5 and got.error == "still broken"


def test_letters_survive_reopening(stores: Stores) -> None:
    store = stores.dead_letters()
    found = store.add(letter())
    store.close()
    again = stores.dead_letters()
    try:
        assert again.get(found) is not None
        assert again.add(letter()) > found  # ids are never handed out again
    finally:
        again.close()
