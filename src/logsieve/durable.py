"""Replacing small files all or nothing, and durably: positions, records, keys and objects the
process must find whole after a crash or a power cut."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["fsync_dir", "write_atomic"]


def write_atomic(path: Path, data: str | bytes, *, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data``: a crash leaves the old file or the new one, never half.

    The temporary file beside it has ``mode`` from the start (owner-only by default, so a
    secret is never readable by others, even briefly); data and rename are both fsynced.
    """
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if mode != 0o600:  # mkstemp's own mode
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode() if isinstance(data, str) else data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    """Make a rename or a new entry in directory ``path`` durable (POSIX); a no-op where
    directories cannot be opened."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
