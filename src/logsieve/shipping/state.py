"""The remembered position of a shipped file, so a restart resumes instead of resending.

One small JSON file per (file, log group, log stream), written atomically (temporary file,
fsync, rename) after each batch the server accepted: a crash leaves either the old or the new
position, never half of one. An exclusive lock on a sibling ``.lock`` file keeps two ``ship``
processes from shipping the same file to the same stream (they would duplicate every line).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from pathlib import Path
from typing import Any

from ..durable import write_atomic
from .errors import ShippingError
from .follow import Position

__all__ = ["PositionStore", "default_state_path"]

_VERSION = 1
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def default_state_path(data_dir: Path, file: Path, group: str, stream: str) -> Path:
    """``<data dir>/ship/<file name>-<hash of file, group, stream>.json``."""
    source = str(Path(file).absolute())
    digest = hashlib.sha256(f"{source}\0{group}\0{stream}".encode()).hexdigest()[:16]
    name = _UNSAFE.sub("_", Path(file).name)[:60] or "file"
    return Path(data_dir) / "ship" / f"{name}-{digest}.json"


class PositionStore:
    """Load, save and lock the position of one shipped file."""

    def __init__(self, path: Path, *, file: Path, group: str, stream: str) -> None:
        self.path = Path(path)
        self.file = str(Path(file).absolute())
        self.group = group
        self.stream = stream
        self._lock_fd: int | None = None

    # -- locking ----------------------------------------------------------------------------
    def lock(self) -> None:
        """Take the exclusive lock, or raise ShippingError if another process holds it."""
        import fcntl

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise ShippingError(
                f"cannot create the state file's directory {self.path.parent}: {exc.strerror}; "
                "pass --state with a writable path"
            ) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ShippingError(
                f"another `logsieve ship` is already shipping {self.file} to {self.group} / "
                f"{self.stream} (state {self.path}); stop it first"
            ) from None
        self._lock_fd = fd

    def unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing releases the flock
            self._lock_fd = None

    # -- the position -----------------------------------------------------------------------
    def load(self) -> Position | None:
        """The saved position, None when nothing was shipped yet."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ShippingError(f"cannot read state file {self.path}: {exc.strerror}") from exc
        try:
            data: dict[str, Any] = json.loads(text)
            position = Position(int(data["device"]), int(data["inode"]), int(data["offset"]))
        except (ValueError, KeyError, TypeError):
            raise ShippingError(
                f"state file {self.path} is damaged; delete it to ship {self.file} from the "
                "start (lines already sent would be sent again)"
            ) from None
        saved = (data.get("file"), data.get("group"), data.get("stream"))
        if saved != (self.file, self.group, self.stream):
            raise ShippingError(
                f"state file {self.path} belongs to {saved[0]} -> {saved[1]} / {saved[2]}, "
                f"not {self.file} -> {self.group} / {self.stream}; pass another --state"
            )
        return position

    def save(self, position: Position) -> None:
        """Replace the saved position atomically and durably."""
        document = {
            "version": _VERSION,
            "file": self.file,
            "group": self.group,
            "stream": self.stream,
            "device": position.device,
            "inode": position.inode,
            "offset": position.offset,
            "savedAt": int(time.time() * 1000),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path, json.dumps(document))
