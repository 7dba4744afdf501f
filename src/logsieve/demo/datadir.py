"""The demo's data directory: fresh for every run, and never someone else's data.

The default is ``./logsieve-demo``: beside where the user ran the command, so the emails,
Datadog events, config and server log are easy to find and still there after the demo ends
(a temporary directory would hide them, or vanish with them). Each run starts from an empty
directory so the numbers on the screen describe this run only; a directory is emptied only
when it carries the demo's marker file, so pointing ``--data-dir`` at real data is refused
instead of wiping it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

from logsieve.errors import ConfigError
from logsieve.storage.datadir import refuse_if_in_use

__all__ = ["DEFAULT_DIR", "MARKER", "PID_FILE", "prepare", "release"]

DEFAULT_DIR = Path("logsieve-demo")
MARKER = ".logsieve-demo"
PID_FILE = "demo.pid"


def _running_pid(directory: Path) -> int | None:
    """The pid of a demo still running on ``directory`` (``--keep-running``), if any."""
    try:
        pid = int((directory / PID_FILE).read_text().strip())
    except (OSError, ValueError):
        return None
    if pid == os.getpid():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid  # exists, owned by someone else
    return pid


def prepare(directory: Path) -> Path:
    """Create or empty ``directory`` for a new run and return it as an absolute path.

    Raises ConfigError (one line, with the fix) when it holds something that is not an
    earlier demo, or when a demo is still running on it.
    """
    directory = Path(os.path.abspath(os.path.expanduser(directory)))
    if directory.exists() and not directory.is_dir():
        raise ConfigError(f"{directory} is a file; choose a directory with --data-dir")
    if directory.is_dir() and any(directory.iterdir()):
        if not (directory / MARKER).exists():
            raise ConfigError(
                f"{directory} already holds files that are not from `logsieve demo`; choose "
                "an empty or new directory with --data-dir"
            )
        pid = _running_pid(directory)
        if pid is not None:
            raise ConfigError(
                f"a demo is still running on {directory} (pid {pid}); stop it with Ctrl-C "
                "there, or choose another --data-dir"
            )
        refuse_if_in_use(directory)  # a server (a kept-running demo's, or anyone's) uses it
        for child in directory.iterdir():  # keep the directory itself (a shell may be in it)
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        (directory / MARKER).write_text(
            "Written by `logsieve demo`: the next run empties this directory.\n"
        )
        (directory / PID_FILE).write_text(f"{os.getpid()}\n")
    except OSError as exc:
        raise ConfigError(
            f"cannot write to {directory}: {exc.strerror or exc}; choose a writable "
            "directory with --data-dir"
        ) from None
    return directory


def release(directory: Path) -> None:
    """Forget the running demo (its pid file) once everything has stopped."""
    with contextlib.suppress(OSError):
        (directory / PID_FILE).unlink()
