"""The outbox: durable, idempotent, retried, rate-limited, isolated per kind, never lossy."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from logsieve.notify.outbox import DeliveryFailed, Outbox
from tests.notify.conftest import TIMEOUT, running
from tests.waiting import wait_for


class Recorder:
    """A sender that records what it got (and when), failing as scripted."""

    def __init__(self, failures: list[BaseException] | None = None) -> None:
        self.got: list[bytes] = []
        self.calls: list[float] = []
        self.failures = list(failures or [])
        self.lock = threading.Lock()

    def __call__(self, payload: bytes) -> None:
        with self.lock:
            self.calls.append(time.monotonic())
            if self.failures:
                raise self.failures.pop(0)
            self.got.append(payload)


def status_of(outbox: Outbox, kind: str) -> dict:
    return next(row for row in outbox.status() if row["kind"] == kind)


def wait_sent(outbox: Outbox, kind: str, count: int) -> None:
    """A send returns before its success is written down: wait for the record too."""
    wait_for(lambda: status_of(outbox, kind)["sent"] == count, what=f"{count} recorded sends")


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "outbox.sqlite3"


def test_items_survive_reopen_and_are_sent_in_order(path: Path) -> None:
    first = Outbox(path)
    for number in range(5):
        assert first.enqueue("k", f"item {number}".encode())
    first.close()

    outbox = Outbox(path)
    assert status_of(outbox, "k")["pending"] == 5
    recorder = Recorder()
    outbox.register("k", recorder)
    with running(outbox):
        wait_for(lambda: len(recorder.got) == 5, what="5 deliveries")
        wait_sent(outbox, "k", 5)
    assert recorder.got == [f"item {n}".encode() for n in range(5)]
    row = status_of(outbox, "k")
    assert (row["pending"], row["sent"], row["given_up"]) == (0, 5, 0)
    outbox.close()


def test_enqueue_is_durable_when_it_returns_even_if_the_process_dies(path: Path) -> None:
    # The child enqueues and dies at once: no close(), no clean shutdown.
    code = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from logsieve.notify.outbox import Outbox\n"
        "box = Outbox(Path(sys.argv[1]))\n"
        "box.enqueue('k', b'before the crash', key='alert-1')\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, timeout=60)
    outbox = Outbox(path)
    assert status_of(outbox, "k")["pending"] == 1
    assert not outbox.enqueue("k", b"again", key="alert-1")  # the key survived too
    recorder = Recorder()
    outbox.register("k", recorder)
    with running(outbox):
        wait_for(lambda: recorder.got, what="the delivery")
    assert recorder.got == [b"before the crash"]
    outbox.close()


def test_idempotency_key_makes_enqueue_a_no_op(path: Path) -> None:
    outbox = Outbox(path)
    assert outbox.enqueue("k", b"one", key="a")
    assert not outbox.enqueue("k", b"one again", key="a")
    assert outbox.enqueue("other", b"one", key="a")  # keys are per kind
    assert outbox.enqueue("k", b"no key")
    assert outbox.enqueue("k", b"no key")  # no key: always a new item
    recorder = Recorder()
    outbox.register("k", recorder)
    with running(outbox):
        wait_for(lambda: len(recorder.got) == 3, what="3 deliveries")
        wait_sent(outbox, "k", 3)
        # Still a no-op after it was sent, and after a reopen.
        assert not outbox.enqueue("k", b"one, redelivered", key="a")
    outbox.close()
    reopened = Outbox(path)
    assert not reopened.enqueue("k", b"one, after restart", key="a")
    assert status_of(reopened, "k")["pending"] == 0
    reopened.close()
    assert recorder.got == [b"one", b"no key", b"no key"]


def test_retries_with_backoff_then_succeeds(path: Path) -> None:
    outbox = Outbox(path)
    recorder = Recorder([DeliveryFailed("503 busy"), DeliveryFailed("503 still busy")])
    outbox.register("k", recorder, retry_base=0.2, retry_max_backoff=5)
    with running(outbox):
        outbox.enqueue("k", b"x")
        wait_for(lambda: recorder.got, what="the delivery after two failures")
        wait_sent(outbox, "k", 1)
    assert len(recorder.calls) == 3
    # Backoff: at least half the nominal delay (0.2 s, then 0.4 s) between attempts.
    assert recorder.calls[1] - recorder.calls[0] >= 0.1
    assert recorder.calls[2] - recorder.calls[1] >= 0.2
    row = status_of(outbox, "k")
    assert (row["sent"], row["failed_attempts"], row["given_up"]) == (1, 2, 0)
    # Sent since: the error is past, never shown as the current one (issue 11 item 18).
    assert (row["last_error"], row["failing_destinations"]) == (None, [])
    assert row["past_error"] == "503 still busy"
    assert row["past_error_time"] is not None
    assert row["recovered_time"] >= row["past_error_time"]
    outbox.close()


def test_retry_after_is_honoured(path: Path) -> None:
    outbox = Outbox(path)
    recorder = Recorder([DeliveryFailed("429", retry_after=0.6)])
    outbox.register("k", recorder, retry_base=0.01)
    with running(outbox):
        outbox.enqueue("k", b"x")
        wait_for(lambda: recorder.got, what="the delivery")
    assert recorder.calls[1] - recorder.calls[0] >= 0.6
    outbox.close()


def test_unexpected_exceptions_are_retried_not_lost(path: Path) -> None:
    outbox = Outbox(path)
    recorder = Recorder([ConnectionResetError("peer reset")])
    outbox.register("k", recorder, retry_base=0.01)
    with running(outbox):
        outbox.enqueue("k", b"x")
        wait_sent(outbox, "k", 1)
    assert "ConnectionResetError: peer reset" in status_of(outbox, "k")["past_error"]
    outbox.close()


def test_permanent_failure_is_given_up_and_visible(path: Path) -> None:
    outbox = Outbox(path)
    recorder = Recorder([DeliveryFailed("400 invalid_payload", retryable=False)])
    outbox.register("k", recorder)
    with running(outbox):
        outbox.enqueue("k", b"bad", key="k1")
        outbox.enqueue("k", b"good")
        wait_for(lambda: recorder.got, what="the second item")  # not blocked by the first
        wait_sent(outbox, "k", 1)
    assert recorder.got == [b"good"]
    [failure] = outbox.failures()
    assert failure["kind"] == "k"
    assert failure["key"] == "k1"
    assert failure["payload"] == b"bad"
    assert failure["error"] == "400 invalid_payload"
    assert failure["attempts"] == 1
    row = status_of(outbox, "k")
    assert (row["given_up"], row["sent"], row["pending"]) == (1, 1, 0)
    outbox.close()


def test_gives_up_after_the_retry_window_then_redrive_sends_it(path: Path) -> None:
    now = [1_000.0]
    outbox = Outbox(path, clock=lambda: now[0])
    recorder = Recorder([DeliveryFailed("down")] * 2)
    outbox.register("k", recorder, retry_base=1000, give_up_after=60)
    with running(outbox):
        outbox.enqueue("k", b"x")
        wait_for(lambda: len(recorder.calls) == 1, what="the first attempt")
        wait_for(lambda: status_of(outbox, "k")["failed_attempts"] == 1, what="the failure")
        # The retry is scheduled at the end of the window (the backoff is longer than it).
        now[0] += 61
        outbox.wake()
        wait_for(lambda: outbox.failures(), what="the item to be given up")
        assert len(recorder.calls) == 2
        assert outbox.failures()[0]["error"] == "down"
        assert outbox.redrive() == 1
        wait_for(lambda: recorder.got, what="the re-driven delivery")
    assert recorder.got == [b"x"]
    assert outbox.failures() == []
    outbox.close()


def test_order_is_kept_per_kind_while_the_head_is_retried(path: Path) -> None:
    outbox = Outbox(path)
    recorder = Recorder([DeliveryFailed("busy"), DeliveryFailed("busy")])
    outbox.register("k", recorder, retry_base=0.05)
    with running(outbox):
        for number in range(4):
            outbox.enqueue("k", str(number).encode())
        wait_for(lambda: len(recorder.got) == 4, what="4 deliveries")
    assert recorder.got == [b"0", b"1", b"2", b"3"]
    outbox.close()


def test_a_hanging_kind_does_not_block_another(path: Path) -> None:
    outbox = Outbox(path)
    release = threading.Event()
    hung = threading.Event()

    def hang(payload: bytes) -> None:
        hung.set()
        release.wait(TIMEOUT)

    fast = Recorder()
    outbox.register("slow", hang)
    outbox.register("fast", fast)
    try:
        with running(outbox):
            outbox.enqueue("slow", b"stuck")
            assert hung.wait(TIMEOUT)
            for number in range(3):
                outbox.enqueue("fast", str(number).encode())
            wait_for(lambda: len(fast.got) == 3, what="the fast kind's deliveries")
            assert status_of(outbox, "slow")["pending"] == 1
    finally:
        release.set()
    outbox.close()


def test_concurrency_puts_several_items_in_flight(path: Path) -> None:
    outbox = Outbox(path)
    barrier = threading.Barrier(3, timeout=TIMEOUT)
    done: list[bytes] = []

    def send(payload: bytes) -> None:
        barrier.wait()  # passes only when 3 sends run at once
        done.append(payload)

    outbox.register("k", send, concurrency=3)
    with running(outbox):
        for number in range(3):
            outbox.enqueue("k", str(number).encode())
        wait_for(lambda: len(done) == 3, what="3 concurrent deliveries")
    outbox.close()


def test_rate_limit_spaces_out_sends(path: Path) -> None:
    outbox = Outbox(path)
    recorder = Recorder()
    outbox.register("k", recorder, rate_per_second=20)
    for number in range(40):
        outbox.enqueue("k", str(number).encode())
    with running(outbox):
        wait_for(lambda: len(recorder.got) == 40, what="40 deliveries")
    # A burst of 20, then 20 more at 20/s: at least ~1 s from the first send to the last.
    assert recorder.calls[-1] - recorder.calls[0] >= 0.9
    # In any 0.5 s window there are at most 20 (burst) + 10 (refill) sends.
    for index, start in enumerate(recorder.calls):
        assert sum(1 for t in recorder.calls[index:] if t - start < 0.5) <= 31
    outbox.close()


def test_unregistered_kind_is_kept_and_warned_about_once(
    path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = Outbox(path)
    outbox.enqueue("channel:removed", b"keep me")
    outbox.enqueue("channel:removed", b"me too")
    other = Recorder()
    outbox.register("other", other)
    with caplog.at_level(logging.WARNING, logger="logsieve.notify.outbox"), running(outbox):
        outbox.enqueue("other", b"x")
        wait_for(lambda: other.got, what="the registered kind's delivery")
        wait_for(
            lambda: any("outbox_unregistered_kind" in r.message for r in caplog.records),
            what="the warning",
        )
    warnings = [r for r in caplog.records if "kind=channel:removed" in r.message]
    assert len(warnings) == 1
    row = status_of(outbox, "channel:removed")
    assert row["pending"] == 2 and row["registered"] is False
    outbox.close()

    # The channel comes back in the config: nothing was lost.
    outbox = Outbox(path)
    recorder = Recorder()
    outbox.register("channel:removed", recorder)
    with running(outbox):
        wait_for(lambda: len(recorder.got) == 2, what="the kept items")
    assert recorder.got == [b"keep me", b"me too"]
    outbox.close()


def test_items_enqueued_by_another_connection_are_noticed(path: Path) -> None:
    outbox = Outbox(path)
    recorder = Recorder()
    outbox.register("k", recorder)
    other = Outbox(path)  # another process would look the same: a second connection
    with running(outbox):
        time.sleep(0.2)  # let the loop settle into waiting
        other.enqueue("k", b"from elsewhere")
        wait_for(lambda: recorder.got, what="the item from the other connection")
    other.close()
    outbox.close()


def test_status_reports_oldest_pending_age(path: Path) -> None:
    now = [100.0]
    outbox = Outbox(path, clock=lambda: now[0])
    outbox.enqueue("k", b"x")
    now[0] = 130.0
    row = status_of(outbox, "k")
    assert row["oldest_pending_age"] == pytest.approx(30.0)
    assert row["registered"] is False
    outbox.close()


def test_register_rejects_nonsense(path: Path) -> None:
    outbox = Outbox(path)
    with pytest.raises(ValueError):
        outbox.register("k", Recorder(), rate_per_second=0)
    with pytest.raises(ValueError):
        outbox.register("k", Recorder(), concurrency=0)
    with pytest.raises(TypeError):
        outbox.enqueue("k", "text, not bytes")  # type: ignore[arg-type]
    outbox.close()
    with pytest.raises(RuntimeError):
        outbox.enqueue("k", b"x")


# --- fairness per destination (issue 11 item 9) ------------------------------------------------


def test_a_destination_waiting_for_its_retry_never_blocks_another(path: Path) -> None:
    outbox = Outbox(path)
    attempts: list[bytes] = []
    delivered: list[bytes] = []

    def send(payload: bytes) -> None:
        attempts.append(payload)
        if payload.startswith(b"dead"):
            raise DeliveryFailed("connection refused")
        delivered.append(payload)

    outbox.register("k", send, retry_base=60, concurrency=4, per_destination=1)
    for number in range(40):  # more than the kind's slots, all for one dead destination
        outbox.enqueue("k", f"dead {number}".encode(), dest="http://dead")
    with running(outbox):
        wait_for(lambda: status_of(outbox, "k")["failed_attempts"] >= 1, what="the failure")
        for number in range(20):
            outbox.enqueue("k", f"ok {number}".encode(), dest=f"http://ok/{number}")
        wait_for(lambda: len(delivered) == 20, what="the healthy destinations' items")
    # The dead destination backs off as a whole: only its oldest item was tried.
    assert [a for a in attempts if a.startswith(b"dead")] == [b"dead 0"]
    [failing] = status_of(outbox, "k")["failing_destinations"]
    assert (failing["destination"], failing["pending"]) == ("http://dead", 40)
    assert failing["last_error"] == "connection refused"
    outbox.close()


def test_a_hanging_destination_holds_only_its_own_slots_until_its_timeout(path: Path) -> None:
    outbox = Outbox(path)
    release = threading.Event()
    delivered: list[bytes] = []

    def send(payload: bytes) -> None:
        if payload.startswith(b"hang"):
            release.wait(TIMEOUT)
            return
        delivered.append(payload)

    outbox.register("k", send, retry_base=60, concurrency=3, per_destination=2, attempt_timeout=0.5)
    try:
        for number in range(10):
            outbox.enqueue("k", f"hang {number}".encode(), dest="http://hang")
        with running(outbox):
            for number in range(5):
                outbox.enqueue("k", f"ok {number}".encode(), dest=f"http://ok/{number}")
            wait_for(lambda: len(delivered) == 5, what="the other destinations' items")
            failing = wait_for(
                lambda: status_of(outbox, "k")["failing_destinations"], what="the timeout"
            )
            assert failing[0]["last_error"] == "no answer within 0.5s (the attempt was abandoned)"
    finally:
        release.set()
    outbox.close()


def test_a_dead_destinations_backlog_is_given_up_with_it_after_the_window(path: Path) -> None:
    now = [1_000.0]
    outbox = Outbox(path, clock=lambda: now[0])
    recorder = Recorder([DeliveryFailed("down")] * 100)
    outbox.register(
        "k", recorder, retry_base=1000, give_up_after=60, concurrency=2, per_destination=1
    )
    for number in range(5):
        outbox.enqueue("k", str(number).encode(), dest="dead")
    with running(outbox):
        wait_for(lambda: status_of(outbox, "k")["failed_attempts"] == 1, what="the failure")
        now[0] += 61
        outbox.wake()
        wait_for(lambda: status_of(outbox, "k")["given_up"] == 5, what="the backlog given up")
    assert len(recorder.calls) == 2  # the head twice; the others went with it, untried
    assert outbox.redrive() == 5  # kept, with their error, for re-driving
    outbox.close()


def test_a_file_from_before_destinations_is_migrated_and_sent(path: Path) -> None:
    import sqlite3

    path.parent.mkdir(parents=True)
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE outbox_items (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, "
        "key TEXT, payload BLOB, state TEXT NOT NULL, created REAL NOT NULL, attempts INTEGER "
        "NOT NULL DEFAULT 0, first_attempt REAL, next_attempt REAL NOT NULL, last_error TEXT, "
        "finished REAL);"
        "INSERT INTO outbox_items (kind, payload, state, created, next_attempt) "
        "VALUES ('k', X'6f6c64', 'pending', 1, 1);"
    )
    old.commit()
    old.close()
    outbox = Outbox(path)
    recorder = Recorder()
    outbox.register("k", recorder)
    with running(outbox):
        wait_for(lambda: recorder.got, what="the old item")
    assert recorder.got == [b"old"]
    outbox.close()
