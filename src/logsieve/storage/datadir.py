"""The data directory: private to the server's user, and used by one server at a time.

Two servers on one directory would both deliver every subscription (a handler gets each event
twice) and fight over cursors, so a server holds an exclusive ``flock`` on ``logsieve.lock``
for as long as it runs. The kernel drops the lock when the process ends however it ends
(``kill -9``, a crash, power loss), so there is no stale lock to clean up; the file keeps the
holder's pid only to name it in the refusal.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from logsieve.errors import ConfigError

__all__ = [
    "LOCK_FILE",
    "DataDirInUse",
    "DataDirLock",
    "claim",
    "holder",
    "make_private",
    "refuse_if_in_use",
]

LOCK_FILE = "logsieve.lock"
DIRECTORY_MODE = 0o700


class DataDirInUse(ConfigError):
    """Another live process holds the directory's lock."""


def make_private(directory: Path) -> None:
    """Create ``directory`` (mode 0700), or take group and other access away from it."""
    directory.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    if directory.stat().st_mode & 0o077:
        os.chmod(directory, DIRECTORY_MODE)


def _read_pid(fd: int) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        return int(os.pread(fd, 32, 0).decode().strip())
    return None


def _in_use(directory: Path, pid: int | None) -> DataDirInUse:
    who = f"pid {pid}" if pid else "pid unknown"
    return DataDirInUse(
        f"data directory {directory} is in use by another logsieve server ({who}); "
        "stop it or use another --data-dir"
    )


def _open_lock(directory: Path) -> int:
    fd = os.open(directory / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    os.fchmod(fd, 0o600)
    return fd


class DataDirLock:
    """The held lock; ``release`` (or process exit) frees the directory."""

    def __init__(self, directory: Path, fd: int) -> None:
        self.directory = directory
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the only descriptor drops the flock
            self._fd = None


def claim(directory: Path) -> DataDirLock:
    """Make ``directory`` private and lock it for this process.

    Raises ``DataDirInUse`` (a ``ConfigError``: one line naming the other server's pid) when
    another process holds it, and ``ConfigError`` when it cannot be created or locked.
    """
    directory = Path(os.path.abspath(directory))
    try:
        make_private(directory)
        fd = _open_lock(directory)
    except OSError as exc:
        raise ConfigError(
            f"cannot use data directory {directory}: {exc.strerror or exc}; choose a writable "
            "directory with --data-dir"
        ) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        pid = _read_pid(fd)
        os.close(fd)
        raise _in_use(directory, pid) from None
    except BaseException:
        os.close(fd)
        raise
    with contextlib.suppress(OSError):  # only names us in a refusal: a full disk may stop it
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return DataDirLock(directory, fd)


def holder(directory: Path) -> int | None:
    """The pid of the server holding ``directory`` (0 if it cannot be read), or None when
    no process holds it. Takes nothing: the probe's own lock is dropped at once."""
    try:
        fd = os.open(directory / LOCK_FILE, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None  # no lock file: no server has ever run here
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return _read_pid(fd) or 0
    finally:
        os.close(fd)  # also drops the shared lock if it was taken
    return None


def refuse_if_in_use(directory: Path) -> None:
    """Raise ``DataDirInUse`` when a server holds ``directory``."""
    pid = holder(directory)
    if pid is not None:
        raise _in_use(Path(os.path.abspath(directory)), pid)
