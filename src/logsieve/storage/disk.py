"""Running out of disk space: one typed error for every store, one state per data directory.

A write that finds the disk full fails cleanly (SQLite rolls the transaction back; everything
committed before stays), and the request answers AWS's ``ServiceUnavailableException`` (HTTP
500, which SDKs retry) saying what is wrong, instead of an anonymous fault with a traceback in
the log. The directory's state is logged once at WARNING when it fills and once when it has
room again, and ``/health`` reports it meanwhile (``disk_status``).
"""

from __future__ import annotations

import errno
import logging
import shutil
import sqlite3
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from logsieve.errors import ServiceError

__all__ = ["DiskFull", "DiskSpace", "disk_status", "is_disk_full", "space_for"]

log = logging.getLogger("logsieve.storage")

_SQLITE_FULL = 13
_SQLITE_IOERR = 10
# Room a directory needs before it counts as writable again: clearing the state on the first
# small write that fits would make it flap while the disk hovers at full.
RESUME_BYTES = 1 << 20
MESSAGE = (
    "The server's disk is full: logsieve could not store this request (nothing from it was "
    "kept; data acknowledged earlier is safe). Free space on the server's disk and retry."
)


class DiskFull(ServiceError, sqlite3.OperationalError):
    """A write failed because the disk holding the data directory is full.

    A ``ServiceError`` (``ServiceUnavailableException``, HTTP 500), so the API answers it in
    AWS's shape without further mapping; also a ``sqlite3.OperationalError``, so code that
    already retries database errors (the outbox's loops) keeps doing so.
    """

    def __init__(self) -> None:
        ServiceError.__init__(self, "ServiceUnavailableException", MESSAGE, status=500)


def _free_bytes(directory: Path) -> int:
    try:
        return shutil.disk_usage(directory).free
    except OSError:
        return 0


def is_disk_full(error: BaseException, directory: Path) -> bool:
    """Whether ``error`` (from a write under ``directory``) means the disk has no room."""
    if isinstance(error, DiskFull):
        return True
    if isinstance(error, OSError):
        return error.errno in (errno.ENOSPC, errno.EDQUOT)
    if isinstance(error, sqlite3.Error):
        code = getattr(error, "sqlite_errorcode", None)
        if code is None:
            return "disk is full" in str(error)
        if code & 0xFF == _SQLITE_FULL:
            return True
        # Growing the shared-memory file or syncing can fail as an I/O error on a full disk.
        return code & 0xFF == _SQLITE_IOERR and _free_bytes(directory) < RESUME_BYTES
    return False


class DiskSpace:
    """Whether the disk under one data directory has room, as the last writes found it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.full_since: float | None = None
        self.error: str | None = None
        self._lock = threading.Lock()

    @property
    def full(self) -> bool:
        return self.full_since is not None

    def failed(self, what: Path | str, error: BaseException) -> None:
        """A write to ``what`` found the disk full: enter the full state (logged once)."""
        with self._lock:
            if self.full_since is not None:
                return
            self.full_since = time.time()
            self.error = str(error)
        log.warning(
            "disk is full: cannot write %s (%s); writes answer ServiceUnavailableException "
            "until space is freed on the disk holding %s",
            what, error, self.directory,
        )  # fmt: skip

    def check(self) -> None:
        """After a successful write: leave the full state once there is room again. Costs one
        attribute read while the disk is fine."""
        if self.full_since is None:
            return
        free = _free_bytes(self.directory)
        if free < RESUME_BYTES:
            return
        with self._lock:
            since, self.full_since, self.error = self.full_since, None, None
        if since is not None:
            log.warning(
                "disk has room again: %s has %d bytes free; writes resumed after %.0f s",
                self.directory, free, time.time() - since,
            )  # fmt: skip

    def status(self) -> dict[str, Any] | None:
        """None when the disk is fine; else what ``/health`` shows."""
        since, error = self.full_since, self.error
        if since is None:
            return None
        return {
            "status": "degraded",
            "disk": "full",
            "diskFullSince": datetime.fromtimestamp(since, UTC).isoformat(timespec="seconds"),
            "error": error,
            "message": "writes fail with ServiceUnavailableException until space is freed",
        }


_spaces: dict[Path, DiskSpace] = {}
_spaces_lock = threading.Lock()


def space_for(directory: Path) -> DiskSpace:
    """The one ``DiskSpace`` of ``directory`` in this process (every store in it shares it)."""
    directory = Path(directory).absolute()
    with _spaces_lock:
        space = _spaces.get(directory)
        if space is None:
            space = _spaces[directory] = DiskSpace(directory)
        return space


def disk_status() -> dict[str, Any] | None:
    """The first full directory's status, or None when every disk this process writes has
    room (the usual case: ``/health`` then stays ``{"status": "ok"}``)."""
    with _spaces_lock:
        spaces = list(_spaces.values())
    for space in spaces:
        found = space.status()
        if found is not None:
            return found
    return None
