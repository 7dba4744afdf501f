"""Follow a growing file like ``tail -F``, by position, so shipping can resume where it stopped.

A position is (device, inode, byte offset just past the last complete line handed out). Only
complete lines (ending in ``\\n``) come out: a line still being written stays in the buffer
until its newline arrives, so a partly written line is never shipped as two events.

The file can change under us, and each way is handled:

* rotation by rename (``app.log`` -> ``app.log.1``, a new ``app.log`` created): the old file is
  read to its end -- for ``rotate_grace`` seconds after it stops growing, since writers often
  keep writing to the renamed file until they reopen -- its unterminated last line, if any, is
  handed out (nobody will finish it), then the new file is followed from its start;
* truncation (``copytruncate``, ``: > app.log``): reading restarts at offset 0;
* deletion: the old file keeps being read until a new one appears under the name;
* restart with a saved position: the same inode continues at the offset; if the name now
  belongs to another file, the old one is looked for among its siblings by inode (rotated while
  we were stopped), finished from the saved offset, and then the new file is read from 0.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Follower", "Line", "Position"]

MAX_LINE_BYTES = 1_048_550  # the largest message one log event holds (1 MiB minus 26 bytes)
CHUNK_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class Position:
    """Where a file has been read to: inode identity plus the offset after a complete line."""

    device: int
    inode: int
    offset: int


@dataclass(frozen=True, slots=True)
class Line:
    text: str  # without the line terminator
    position: Position  # just after this line


class _Open:
    """One open file being read: descriptor, identity, buffered partial line."""

    __slots__ = ("buffer", "device", "fd", "inode", "name", "offset", "read_pos")

    def __init__(self, name: Path, fd: int, offset: int) -> None:
        st = os.fstat(fd)
        self.name = name
        self.fd = fd
        self.device, self.inode = st.st_dev, st.st_ino
        self.offset = offset  # after the last complete line handed out
        self.read_pos = offset  # bytes read into ``buffer``
        self.buffer = bytearray()
        os.lseek(fd, offset, os.SEEK_SET)

    def position(self) -> Position:
        return Position(self.device, self.inode, self.offset)

    def close(self) -> None:
        os.close(self.fd)


def _open(path: Path) -> int | None:
    try:
        return os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return None


def _find_by_inode(path: Path, device: int, inode: int) -> Path | None:
    """A sibling of ``path`` (its rotated name) that is the file with this inode."""
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return None
    for entry in entries:
        try:
            if entry.inode() == inode and entry.is_file() and entry.stat().st_dev == device:
                return Path(entry.path)
        except OSError:
            continue
    return None


class Follower:
    """Hand out the complete lines of ``path`` as they appear (see the module docstring)."""

    def __init__(
        self,
        path: Path,
        start: Position | None = None,
        *,
        from_end: bool = False,
        rotate_grace: float = 1.0,
        max_line_bytes: int = MAX_LINE_BYTES,
        clock: Callable[[], float] = time.monotonic,
        on_notice: Callable[[str], None] | None = None,
    ) -> None:
        self.path = Path(path)
        self.rotate_grace = rotate_grace
        self.max_line_bytes = max_line_bytes
        self.clock = clock
        self.on_notice = on_notice or (lambda _text: None)
        self._current: _Open | None = None
        self._old: _Open | None = None  # a rotated file still being finished
        self._old_idle_since: float | None = None
        self._start(start, from_end)

    # -- starting ---------------------------------------------------------------------------
    def _start(self, start: Position | None, from_end: bool) -> None:
        fd = _open(self.path)
        if start is None:
            if fd is not None:
                offset = os.fstat(fd).st_size if from_end else 0
                self._current = _Open(self.path, fd, offset)
            return
        if fd is not None:
            st = os.fstat(fd)
            if (st.st_dev, st.st_ino) == (start.device, start.inode):
                offset = start.offset
                if st.st_size < offset:
                    self.on_notice(
                        f"{self.path} is shorter than the saved position ({st.st_size:,} < "
                        f"{offset:,} bytes): it was truncated; reading it from the start"
                    )
                    offset = 0
                self._current = _Open(self.path, fd, offset)
                return
        rotated = _find_by_inode(self.path, start.device, start.inode)
        if rotated is not None:
            old_fd = _open(rotated)
            if old_fd is not None:
                size = os.fstat(old_fd).st_size
                old = _Open(rotated, old_fd, start.offset if size >= start.offset else 0)
                self._old = old
                self.on_notice(
                    f"{self.path} was rotated while stopped; finishing {rotated} from byte "
                    f"{old.offset:,} first"
                )
        elif fd is not None:
            self.on_notice(
                f"{self.path} is a different file than the saved position's (inode "
                f"{start.inode}) and the old one is gone; reading the new file from the start"
            )
        if fd is not None:
            self._current = _Open(self.path, fd, 0)

    # -- state ------------------------------------------------------------------------------
    @property
    def position(self) -> Position | None:
        """After the last line handed out (of the file being finished, if any)."""
        reading = self._old or self._current
        return reading.position() if reading is not None else None

    @property
    def idle(self) -> bool:
        """Nothing left to hand out right now: no rotated file pending, at the end."""
        return self._old is None

    def close(self) -> None:
        for item in (self._old, self._current):
            if item is not None:
                item.close()
        self._old = self._current = None

    # -- reading ----------------------------------------------------------------------------
    def read(self, max_lines: int = 10_000) -> list[Line]:
        """The complete lines available now (at most about ``max_lines``); [] at the end."""
        lines: list[Line] = []
        while len(lines) < max_lines:
            if self._old is not None:
                if self._read_chunk(self._old, lines):
                    self._old_idle_since = None
                    continue
                now = self.clock()
                if self._old_idle_since is None:
                    self._old_idle_since = now
                if now - self._old_idle_since < self.rotate_grace:
                    # The writer may still append to the renamed file. The new file waits: one
                    # position (one inode) at a time is what makes resuming exact.
                    break
                self._finish_old(lines)
                continue
            if self._current is None:
                fd = _open(self.path)
                if fd is None:
                    break
                self._current = _Open(self.path, fd, 0)
                self.on_notice(f"{self.path} appeared; following it")
            if self._read_chunk(self._current, lines):
                continue
            if not self._check_replaced():
                break
        return lines

    def _read_chunk(self, item: _Open, lines: list[Line]) -> bool:
        """Read once from ``item``; False at its end (after checking for truncation)."""
        data = os.read(item.fd, CHUNK_BYTES)
        if not data:
            if os.fstat(item.fd).st_size < item.read_pos:
                self.on_notice(f"{item.name} was truncated; reading it from the start")
                item.offset = item.read_pos = 0
                item.buffer.clear()
                os.lseek(item.fd, 0, os.SEEK_SET)
                return True
            return False
        item.read_pos += len(data)
        buffer = item.buffer
        buffer += data
        end = buffer.rfind(b"\n")
        if end < 0:
            if len(buffer) > self.max_line_bytes:  # a runaway line: ship it in pieces
                self._emit(item, bytes(buffer[: self.max_line_bytes]), 0, lines)
                del buffer[: self.max_line_bytes]
            return True
        complete = bytes(buffer[: end + 1])
        del buffer[: end + 1]
        for raw in complete.split(b"\n")[:-1]:
            self._emit(item, raw, 1, lines)
        return True

    def _emit(self, item: _Open, raw: bytes, terminator: int, lines: list[Line]) -> None:
        while len(raw) > self.max_line_bytes:  # a line longer than one event holds
            head, raw = raw[: self.max_line_bytes], raw[self.max_line_bytes :]
            item.offset += len(head)
            lines.append(Line(head.decode("utf-8", "replace"), item.position()))
        item.offset += len(raw) + terminator
        text = raw.decode("utf-8", "replace")
        if text.endswith("\r"):
            text = text[:-1]
        lines.append(Line(text, item.position()))

    def _check_replaced(self) -> bool:
        """At the end of the current file: has its name moved on to a new file? If so keep the
        old one to finish and open the new one. True when there may be more to read."""
        assert self._current is not None
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return False  # rotated away, not re-created yet: keep reading the old descriptor
        if (st.st_dev, st.st_ino) == (self._current.device, self._current.inode):
            return False
        fd = _open(self.path)
        if fd is None:
            return False
        self.on_notice(f"{self.path} was replaced (rotated); finishing the old file first")
        self._old, self._old_idle_since = self._current, None
        self._current = _Open(self.path, fd, 0)
        return True

    def _finish_old(self, lines: list[Line]) -> None:
        old = self._old
        assert old is not None
        if old.buffer:  # an unterminated last line: the writer has moved on, ship it
            raw = bytes(old.buffer)
            old.buffer.clear()
            self._emit(old, raw, 0, lines)
        old.close()
        self._old = self._old_idle_since = None
