"""The background thread that copies a store's WAL into its database file.

Checkpoints done inside a commit would stall PutLogEvents, so the store turns SQLite's own off
and this thread runs them (PASSIVE: never blocks a writer). It must outlive every error: if it
stopped, the WAL would grow without bound until a restart. A failure (a full disk, an I/O
error) is logged once, retried with a growing pause, and the recovery is logged too.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

from .database import connect
from .disk import DiskSpace

__all__ = ["Checkpointer"]

log = logging.getLogger("logsieve.storage")

EVERY_S = 0.5
MAX_BACKOFF_S = 5.0  # a freed disk is noticed within this long
# Past this many bytes of WAL, a checkpoint finishes under the write lock so that the next
# commit starts the WAL over: under sustained ingest a checkpoint running beside the writers
# never catches up with them, and the WAL would grow without bound (every commit then writes
# fresh file pages, which the kernel must allocate and zero; measured at about half the
# server's CPU). The stall is short: only frames written during the unlocked pass remain.
WAL_RESTART_BYTES = 32 * 1024 * 1024


class Checkpointer:
    """Checkpoints ``path`` every ``EVERY_S`` on its own connection until ``stop``."""

    def __init__(self, path: Path, write_lock: threading.Lock, space: DiskSpace) -> None:
        self.path = path
        self._write_lock = write_lock
        self._space = space
        self._stopping = threading.Event()
        self._conn: sqlite3.Connection | None = None
        self._frame_bytes = 0
        self.failures = 0  # consecutive failed passes (0: healthy)
        self.thread = threading.Thread(target=self._run, name="logsieve-checkpoint", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self.thread.join()

    def _run(self) -> None:
        pause = EVERY_S
        try:
            while not self._stopping.wait(pause):
                try:
                    self._pass()
                except Exception as error:  # this thread must never die
                    self._failed(error)
                    pause = min(pause * 2, MAX_BACKOFF_S)
                    continue
                if self.failures:
                    log.warning(
                        "checkpoints resumed: file=%s after %d failed passes",
                        self.path, self.failures,
                    )  # fmt: skip
                    self.failures = 0
                pause = EVERY_S
                self._space.check()
        finally:
            if self._conn is not None:
                self._conn.close()

    def _pass(self) -> None:
        if self._conn is None:  # opened here, so a failure to open is retried like any other
            self._conn = connect(self.path, cache_mb=1)
            self._frame_bytes = self._conn.execute("PRAGMA page_size").fetchone()[0] + 24
        conn = self._conn
        _, frames, _ = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if frames * self._frame_bytes > WAL_RESTART_BYTES:
            with self._write_lock:  # no commit can add frames meanwhile
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()

    def _failed(self, error: Exception) -> None:
        """Log the first failure of a streak; the pauses grow until a pass succeeds."""
        self.failures += 1
        if self.failures > 1:
            return
        if isinstance(error, sqlite3.Error | OSError):  # DiskFull too
            log.warning(
                "checkpoint failed: file=%s error=%s; the WAL keeps every write until a "
                "checkpoint succeeds; retrying",
                self.path, error.__cause__ or error,  # DiskFull: the error SQLite gave
            )  # fmt: skip
        else:
            log.error("checkpoint failed: file=%s; retrying", self.path, exc_info=error)
