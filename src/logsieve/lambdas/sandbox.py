"""Where and as whom function workers run: their own directories, user, limits and lifetime.

Chosen once per server (``Sandbox``), applied per worker (``Placement``, then the supervisor
process in ``supervisor.py`` that starts and contains the worker). What a function gets:

* always: its own directory ``<tmp>/logsieve-<server pid>-fn/<function>/<worker>/`` with a
  private ``tmp/`` (``TMPDIR`` and ``HOME``), removed when the worker ends; MemorySize enforced
  on the resident memory of its whole process tree; every process it starts (forked or
  double-forked with ``setsid``) killed at timeout, retirement and server exit, even when the
  server is SIGKILLed (a watchdog pipe the supervisors see close);
* as root: a uid and gid of its own (from a fixed high range, derived from the function's name
  and the data directory, no supplementary groups) and a private copy of its code, so it
  cannot read the data directory, other functions' code or the SNS signing key;
* not as root: Landlock where the kernel has it (reads everywhere except the data directory
  and other workers' directories, writes only in its own directory, no signals out of its
  sandbox); without Landlock, no filesystem isolation at all, and the server log says so.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import pwd
import shutil
import stat
import sys
import tempfile
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from . import supervisor
from .spec import FunctionSpec

PR_SET_DUMPABLE = 4
UID_BASE = 1_700_000_000  # function uids: [UID_BASE, UID_BASE + UID_SPAN)
UID_SPAN = 1 << 24
ADDRESS_SPACE_MARGIN_MB = 2048  # RLIMIT_AS backstop above MemorySize (the interpreter maps more
# virtual memory than it uses; the exact limit is on resident memory, in the supervisor)
_SUPERVISOR = str(Path(supervisor.__file__).resolve())
_DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/shm")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Placement:
    """One worker's identity and directories."""

    directory: Path  # the worker's own directory, removed with it
    task_root: Path  # the code it runs (a private copy as root)
    tmp: Path  # its writable space (TMPDIR, HOME)
    uid: int | None = None  # None: the server's own user
    gid: int | None = None
    landlock: list[tuple[str, str]] | None = None


def _others_can_read(path: Path) -> bool:
    """Whether a user with no relation to the owner can reach ``path`` (and read it)."""
    try:
        info = path.stat()
        if not info.st_mode & (stat.S_IROTH if not stat.S_ISDIR(info.st_mode) else stat.S_IXOTH):
            return False
        return all(parent.stat().st_mode & stat.S_IXOTH for parent in path.parents)
    except OSError:
        return False


def _interpreter_paths() -> list[Path]:
    """What a worker needs to read to run at all: the interpreter and its packages."""
    paths = {Path(sys.base_prefix), Path(sys.prefix), Path(sys.executable).resolve().parent}
    paths.update(Path(p) for p in sys.path if p and Path(p).is_dir())
    return sorted(paths)


def _read_everywhere_except(protected: Iterable[Path]) -> dict[str, str]:
    """Landlock rules (allow-lists only) that let a process read everything but ``protected``:
    every sibling of every directory on the way down to a protected path."""
    protected = {p.resolve() for p in protected}
    blocked = set(protected)
    for path in protected:
        blocked.update(path.parents)
    rules: dict[str, str] = {}
    for directory in blocked - protected:
        try:
            entries = os.listdir(directory)
        except OSError:
            continue
        for entry in entries:
            child = directory / entry
            if child in blocked:
                continue
            if child.is_symlink():  # a rule follows the link: it must not lead back in
                target = child.resolve()
                if target in blocked or any(target.is_relative_to(p) for p in protected):
                    continue
            rules[str(child)] = "r"
    return rules


class Sandbox:
    """The isolation this server can give its workers, decided once and logged once."""

    def __init__(self, protected: Iterable[Path] = (), salt: str = "") -> None:
        self.root = Path(tempfile.gettempdir()) / f"logsieve-{os.getpid()}-fn"
        self._protected = [Path(p) for p in protected]
        self._salt = salt
        self._remove_stale()
        self.root.mkdir(mode=0o711, exist_ok=True)
        self.root.chmod(0o711)
        # The write end stays in this process alone: when it dies, every supervisor reads EOF.
        self.watchdog, self._watchdog_w = os.pipe()
        needed = [Path(sys.executable).resolve(), Path(_SUPERVISOR), Path(os.__file__).resolve()]
        self.as_root = os.geteuid() == 0
        self.own_users = self.as_root and all(_others_can_read(p) for p in needed)
        self.landlock_abi = 0 if self.own_users else supervisor.landlock_abi()
        self._announce(needed)

    def _announce(self, needed: list[Path]) -> None:
        common = "own tmp dir, MemorySize on resident memory, process tree killed at timeout"
        if self.own_users:
            log.info("event=lambda_isolation mode=own_user provides=%r", f"own uid/gid; {common}")
        elif self.landlock_abi:
            note = "" if not self.as_root else " (the interpreter is not readable by others)"
            log.warning(
                "event=lambda_isolation mode=landlock abi=%d provides=%r lacks=%r%s",
                self.landlock_abi,
                f"Landlock: no reads of the data dir, writes only to its own dir; {common}",
                "own uid (functions run as the server's user)",
                note,
            )
        else:
            log.warning(
                "event=lambda_isolation mode=none provides=%r lacks=%r",
                common,
                "filesystem isolation: functions run as the server's user and can read and "
                "write what it can (run as root, or on Linux >= 5.13 with Landlock)",
            )
        if self.as_root and not self.own_users:
            unreadable = [str(p) for p in needed if not _others_can_read(p)]
            log.warning("event=lambda_isolation_degraded unreadable_by_others=%s", unreadable)

    def _remove_stale(self) -> None:
        """Directories of servers that died without cleaning up (SIGKILL)."""
        for path in self.root.parent.glob("logsieve-*-fn"):
            pid = path.name.split("-")[1]
            if pid.isdigit() and not Path(f"/proc/{pid}").exists():
                shutil.rmtree(path, ignore_errors=True)

    def identity(self, name: str) -> tuple[int, int]:
        """A stable uid (= gid) of the function's own, not any existing account's."""
        digest = hashlib.sha256(f"{self._salt}\0{name}".encode()).digest()
        uid = UID_BASE + int.from_bytes(digest[:4], "big") % UID_SPAN
        while True:
            try:
                pwd.getpwuid(uid)
            except KeyError:
                return uid, uid
            uid = UID_BASE + (uid - UID_BASE + 1) % UID_SPAN

    def place(self, spec: FunctionSpec) -> Placement:
        """Create the worker's directories (and, as root, its copy of the code)."""
        home = self.root / spec.name
        home.mkdir(mode=0o711, exist_ok=True)
        directory = home / uuid.uuid4().hex[:12]
        directory.mkdir(mode=0o700)
        tmp = directory / "tmp"
        tmp.mkdir(mode=0o700)
        try:
            if self.own_users:
                uid, gid = self.identity(spec.name)
                task = directory / "task"
                shutil.copytree(spec.code_dir, task, symlinks=True)
                _hand_over(task, gid)
                os.chown(directory, 0, gid)
                directory.chmod(0o750)
                os.chown(tmp, uid, gid)
                return Placement(directory, task, tmp, uid, gid)
            rules = None
            if self.landlock_abi:
                protected = [*self._protected, self.root]
                if self.as_root:  # root's own files too: the worker is still uid 0
                    protected.append(Path.home())
                rules = _read_everywhere_except(protected)
                rules.update(dict.fromkeys(map(str, _interpreter_paths()), "r"))
                rules[str(spec.code_dir)] = "r"
                rules[str(directory)] = "rw"
                rules.update(dict.fromkeys(_DEVICES, "rw"))
            landlock = sorted(rules.items()) if rules is not None else None
            return Placement(directory, spec.code_dir, tmp, landlock=landlock)
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            raise

    def command(self, spec: FunctionSpec, placement: Placement, status_fd: int) -> list[str]:
        """The supervisor's command line (no secrets: the environment carries those)."""
        settings = {
            "command": [sys.executable, "-m", "awslambdaric", spec.handler],
            "cwd": str(placement.task_root),
            "uid": placement.uid,
            "gid": placement.gid,
            "memory_mb": spec.memory_mb,
            "address_space_mb": spec.memory_mb + ADDRESS_SPACE_MARGIN_MB,
            "watchdog_fd": self.watchdog,
            "status_fd": status_fd,
            "landlock": placement.landlock,
            "drop_capabilities": True,
        }
        return [sys.executable, "-I", "-S", _SUPERVISOR, json.dumps(settings)]

    def release(self, placement: Placement) -> None:
        shutil.rmtree(placement.directory, ignore_errors=True)

    def close(self) -> None:
        """Tell every supervisor the server is done (they kill their trees), remove the dirs."""
        for fd in (self._watchdog_w, self.watchdog):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self.root, ignore_errors=True)


def _hand_over(task: Path, gid: int) -> None:
    """Make the code copy readable (not writable) by the function's group, as /var/task is."""
    for folder, dirs, files in os.walk(task):
        os.chown(folder, 0, gid)
        os.chmod(folder, 0o750)
        for name in files:
            path = os.path.join(folder, name)
            os.lchown(path, 0, gid)
            if not os.path.islink(path):
                mode = os.stat(path).st_mode
                os.chmod(path, 0o750 if mode & 0o111 else 0o640)
        for name in dirs:
            path = os.path.join(folder, name)
            if os.path.islink(path):
                os.lchown(path, 0, gid)


def protect_server() -> bool:
    """Make this (the server's) process non-dumpable, so processes of the same user (function
    workers run as the server's user when not root) cannot read ``/proc/<server>/environ`` or
    its memory, nor ptrace it. False where the kernel refuses (not Linux)."""
    try:
        supervisor.prctl(PR_SET_DUMPABLE, 0)
    except (OSError, AttributeError):
        log.warning("event=server_dumpable reason=prctl_failed")
        return False
    return True
