"""Where and as whom function workers run: their own directories, view of the disk, powers,
limits and lifetime.

Chosen once per server (``Sandbox``, which logs what it can and cannot provide), applied per
worker (``Placement``, then the supervisor process in ``supervisor.py`` that starts and contains
the worker). What every function gets:

* its own directory ``<tmp>/logsieve-fn-<uid>/<server pid>/<function>/<worker>/`` with a
  private ``tmp/`` (``TMPDIR`` and ``HOME``), removed when the worker ends; every server of the
  same user puts its workers under that one directory, so covering it hides the workers of
  every server on the machine, started before or after this one;
* MemorySize enforced on the resident memory of its whole process tree (Runtime.OutOfMemory);
* every process it starts (forked or double-forked with ``setsid``) killed at timeout,
  retirement and server exit, even when the server is SIGKILLed (a watchdog pipe);
* a mount namespace of its own in which the data directory, the other workers' directories
  and (as root) root's home directory are covered by an empty read-only tmpfs: the databases,
  the server's key pairs, the SNS signing key and other functions' code are not there to read;
  the interpreter and the function's own code stay visible, read-only. Not root, this needs
  unprivileged user namespaces; where the kernel refuses them, Landlock rules stand in (they
  can only allow, so the directories that contain the data directory take no new files);
* Landlock where the kernel has it (Linux >= 5.13): no signals to or ptrace of processes
  outside its own sandbox (other workers, the server), and as root writes only under the
  temporary directory;
* as root: no capabilities (its bounding set is emptied and no_new_privs set before exec), so
  the uid 0 it keeps cannot mount, change users, load modules, trace or signal others. It keeps
  the server's uid because functions declared in the config file (and API-deployed ones in
  local development) are expected to use the operator's files; ``own_users=True`` runs each
  function as a uid of its own instead (from a fixed high range, with a private copy of its
  code), for functions that must not touch the operator's files at all.

Not provided: it is not a container. The kernel, the network (any port, any host, the server's
API included), the process list and the rest of the filesystem are shared.
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
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from logsieve.durable import write_atomic

from . import supervisor
from .spec import FunctionSpec

PR_SET_DUMPABLE = 4
UID_BASE = 1_700_000_000  # own_users: function uids in [UID_BASE, UID_BASE + UID_SPAN)
UID_SPAN = 1 << 24
ADDRESS_SPACE_MARGIN_MB = 2048  # RLIMIT_AS backstop above MemorySize (the interpreter maps more
# virtual memory than it uses; the exact limit is on resident memory, in the supervisor)
_SUPERVISOR = str(Path(supervisor.__file__).resolve())
_PROTECTS = "protects.json"  # in a server's own workers directory: what it protects
_DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/shm")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Placement:
    """One worker's identity, directories and view of the disk."""

    directory: Path  # the worker's own directory, removed with it
    task_root: Path  # the code it runs (a private copy with its own user)
    tmp: Path  # its writable space (TMPDIR, HOME)
    uid: int | None = None  # None: the server's own user
    gid: int | None = None
    hide: list[str] = field(default_factory=list)  # covered in its mount namespace...
    keep: list[str] = field(default_factory=list)  # ...except these, read-only
    landlock: list[tuple[str, str]] | None = None  # (path, "r" | "rw") rules


def _interpreter_paths() -> list[Path]:
    """What a worker needs to read to run at all: the interpreter and its packages."""
    paths = {Path(sys.base_prefix), Path(sys.prefix), Path(sys.executable).resolve().parent}
    paths.update(Path(p) for p in sys.path if p and Path(p).is_dir())
    paths.add(Path(_SUPERVISOR).parent)
    return sorted(paths)


def _others_can_run() -> bool:
    """Whether a function's own uid could reach the interpreter: every directory above it
    must let others through (root's home is covered by a 0755 tmpfs with the interpreter
    bound back in, so it does not count). A checkout in a private directory (``mktemp -d``
    is 0700) cannot give functions a uid of their own."""
    home = _root_home()
    for path in _interpreter_paths():
        for directory in path.resolve().parents:
            if home is not None and (directory == home or directory.is_relative_to(home)):
                continue
            with contextlib.suppress(OSError):
                if not directory.stat().st_mode & stat.S_IXOTH:
                    log.warning("event=lambda_own_users_off reason=%s is private", directory)
                    return False
    return True


def _root_home() -> Path | None:
    """Root's home directory, unless hiding it would hide too much (``/``, or the temp dir)."""
    try:
        home = Path(pwd.getpwuid(os.geteuid()).pw_dir).resolve()
    except (KeyError, OSError):
        return None
    if home == Path("/") or Path(tempfile.gettempdir()).resolve().is_relative_to(home):
        return None
    return home


def _everywhere_except(protected: Iterable[Path], top: Path = Path("/")) -> set[str]:
    """Landlock rule paths (rules only allow) covering everything under ``top`` but
    ``protected``: every sibling of every directory on the way down to a protected path."""
    top = top.resolve()
    protected = {p.resolve() for p in protected}
    blocked = {p for p in protected if p.is_relative_to(top)}
    for path in list(blocked):
        blocked.update(parent for parent in path.parents if parent.is_relative_to(top))
    if top not in blocked:
        return {str(top)}
    found: set[str] = set()
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
            found.add(str(child))
    return found


def _can_hide(probe: Path) -> bool:
    """Whether a child process may cover a directory in a mount namespace of its own (root,
    or a kernel that allows unprivileged user namespaces)."""
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-S", _SUPERVISOR, "--probe-hide", str(probe)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def workers_root() -> Path:
    """``<tmp>/logsieve-fn-<uid>``: where every server of this user puts its workers' dirs.

    One directory for all of them, so a worker's namespace (or Landlock rules) covering it
    leaves no other server's worker in view, even one started later. It is in a shared,
    sticky ``/tmp``: one that is not a real directory of ours (a link, or made by another
    user) is not used; this server then gets a fresh private one of its own.
    """
    root = Path(tempfile.gettempdir()) / f"logsieve-fn-{os.geteuid()}"
    with contextlib.suppress(FileExistsError):
        root.mkdir(mode=0o711)
    info = os.lstat(root)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
        log.warning("event=lambda_workers_root_refused path=%s", root)
        return Path(tempfile.mkdtemp(prefix="logsieve-fn-"))
    os.chmod(root, 0o711, follow_symlinks=False)
    return root


class Sandbox:
    """The isolation this server can give its workers, decided once and logged once."""

    def __init__(
        self, protected: Iterable[Path] = (), salt: str = "", own_users: bool = False
    ) -> None:
        self.shared = workers_root()
        self.root = self.shared / str(os.getpid())
        self._protected = [Path(p).resolve() for p in protected]
        self._salt = salt
        self._remove_stale()
        self.root.mkdir(mode=0o711, exist_ok=True)
        self.root.chmod(0o711)
        # Other servers of this user read this list, so their workers hide our data too.
        write_atomic(self.root / _PROTECTS, json.dumps([str(p) for p in self._protected]).encode())
        # The write end stays in this process alone: when it dies, every supervisor reads EOF.
        self.watchdog, self._watchdog_w = os.pipe()
        self.as_root = os.geteuid() == 0
        self.can_hide = _can_hide(self.root)
        self.own_users = own_users and self.as_root and self.can_hide and _others_can_run()
        self.landlock_abi = supervisor.landlock_abi()
        self._announce()

    def _announce(self) -> None:
        provides = ["own tmp dir", "MemorySize", "process tree killed at timeout and exit"]
        lacks = ["a container: same kernel, network, process list"]
        if self.can_hide:
            provides.append("data dir and other workers' dirs hidden (mount namespace)")
        elif self.landlock_abi:
            provides.append("data dir unreadable and unwritable (Landlock)")
            lacks.append("new files in the directories above the data dir (Landlock limits)")
        else:
            lacks.append("filesystem isolation: functions can read and write the data dir")
        if self.landlock_abi >= 6:
            provides.append("no signals or ptrace out of its sandbox (Landlock)")
        elif self.landlock_abi:
            provides.append("no ptrace out of its sandbox (Landlock)")
            lacks.append("signal isolation (Landlock ABI < 6)")
        else:
            lacks.append("Landlock (Linux >= 5.13): other workers can be signalled and traced")
        if self.own_users:
            provides.append("own uid and gid per function")
        elif self.as_root:
            provides.append("no capabilities (uid 0 kept)")
            if self.landlock_abi:
                provides.append("writes only under the temporary directory")
        else:
            lacks.append("own uid (functions run as the server's user)")
        level = logging.INFO if self.can_hide and self.landlock_abi else logging.WARNING
        log.log(
            level,
            "event=lambda_isolation provides=%r lacks=%r",
            "; ".join(provides),
            "; ".join(lacks),
        )

    def _others_protected(self) -> list[Path]:
        """What the other live servers of this user protect (their data directories), and
        the default data directory: a worker hides them as it hides its own server's. A
        server started after a worker is not covered in that worker's namespace."""
        found = [Path.home() / ".logsieve"]
        for path in self.shared.iterdir():
            if path == self.root or not path.name.isdigit():
                continue
            if not Path(f"/proc/{path.name}").exists():
                continue
            with contextlib.suppress(OSError, ValueError):
                listed = json.loads((path / _PROTECTS).read_bytes())
                found.extend(Path(item) for item in listed if isinstance(item, str))
        return found

    def _remove_stale(self) -> None:
        """Directories of servers that died without cleaning up (SIGKILL)."""
        for path in self.shared.iterdir():
            if path.name.isdigit() and not Path(f"/proc/{path.name}").exists():
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
        """Create the worker's directories (with its own user, its copy of the code)."""
        home = self.root / spec.name
        home.mkdir(mode=0o711, exist_ok=True)
        directory = home / uuid.uuid4().hex[:12]
        directory.mkdir(mode=0o700)
        tmp = directory / "tmp"
        tmp.mkdir(mode=0o700)
        try:
            uid = gid = None
            task = Path(spec.code_dir).resolve()
            if self.own_users:
                uid, gid = self.identity(spec.name)
                task = directory / "task"
                shutil.copytree(spec.code_dir, task, symlinks=True)
                _hand_over(task, gid)
                os.chown(directory, 0, gid)
                directory.chmod(0o750)
                os.chown(tmp, uid, gid)
            return Placement(directory, task, tmp, uid, gid, *self._view(directory, task))
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            raise

    def _view(
        self, directory: Path, task: Path
    ) -> tuple[list[str], list[str], list[tuple[str, str]] | None]:
        """What the worker's mount namespace covers and keeps, and its Landlock rules."""
        # Every server's workers, not only ours; every live server's data, not only ours.
        hidden = list(dict.fromkeys([*self._protected, *self._others_protected(), self.shared]))
        if self.as_root and (home := _root_home()) is not None:
            hidden.append(home)  # root's keys, tokens (~/.aws) and shell history
        keep = [directory, task, *_interpreter_paths()]
        rules: dict[str, str] | None = None
        if self.landlock_abi:
            # Reads everywhere, writes everywhere too (not root) or only under the temporary
            # directory (a root without capabilities still owns every root-owned file).
            tmp = Path(tempfile.gettempdir())
            writable = tmp if self.as_root else Path("/")
            if self.can_hide:  # the mount namespace hides; the rules only limit writes
                rules = {"/": "r", str(writable): "rw"}
            else:  # the rules stand in for the hiding, as far as allow-lists can
                rules = dict.fromkeys(_everywhere_except(hidden), "r")
                rules.update(dict.fromkeys(_everywhere_except(hidden, writable), "rw"))
                rules.update(dict.fromkeys(map(str, keep[1:]), "r"))
            rules[str(directory)] = "rw"
            rules.update(dict.fromkeys(_DEVICES, "rw"))
        hide = [str(p) for p in hidden] if self.can_hide else []
        landlock = sorted(rules.items()) if rules is not None else None
        return hide, [str(p) for p in keep], landlock

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
            "hide": placement.hide,
            "keep": placement.keep,
            "writable": str(placement.directory),
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
