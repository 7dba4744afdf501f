"""The process between the server and one function worker; nothing the function starts outlives it.

Run by the server as ``python -I -S supervisor.py '<settings JSON>'`` with the worker's
environment. Standard library only and no logsieve imports: it starts in a fresh interpreter
and, as root, it is the part that still has privileges.

It becomes a child subreaper, so every process the function starts, forked or double-forked
with ``setsid``, stays its descendant; then it forks the worker, which takes its limits and
identity (address-space limit, its own uid and gid with no supplementary groups as root,
no_new_privs, a parent-death signal, Landlock rules where asked) and execs awslambdaric. The
worker's pid goes to the status pipe. Then it watches four things: the server's watchdog pipe
(end of file: the server died, even of SIGKILL), SIGTERM (the server ends the worker: timeout,
retirement, shutdown), the worker's exit, and the resident memory of the whole tree (over
MemorySize: ``M`` on the status pipe, then killed, as Lambda's OOM killer would). Whichever
comes first, every descendant is SIGKILLed until none is left, and the supervisor exits the way
the worker did, so the server reads the worker's own exit status.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import select
import signal
import sys

PR_SET_PDEATHSIG = 1
PR_CAPBSET_DROP = 24
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC = 1, 2, 4, 32, 4096, 16384
MS_PRIVATE = 1 << 18
# The tree's resident memory is summed more often the closer it is to the limit: the time the
# headroom lasts at GROWTH bytes/s, within these bounds (milliseconds).
MEMORY_POLL_MS = (5, 250)
GROWTH = 2 << 30
OUT_OF_MEMORY = b"M"  # status pipe: the tree went over its memory and was killed

_SYS_LANDLOCK_CREATE_RULESET = 444
_SYS_LANDLOCK_ADD_RULE = 445
_SYS_LANDLOCK_RESTRICT_SELF = 446
_LANDLOCK_CREATE_RULESET_VERSION = 1
_LANDLOCK_RULE_PATH_BENEATH = 1
_READ = (1 << 0) | (1 << 2) | (1 << 3)  # execute, read file, read dir
_FILE_RIGHTS = (1 << 0) | (1 << 1) | (1 << 2) | (1 << 14) | (1 << 15)
_SCOPE_SIGNAL = 1 << 1  # ABI 6: no signals to processes outside the sandbox

_libc = ctypes.CDLL(None, use_errno=True)


def prctl(option: int, value: int) -> None:
    if _libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"prctl({option}): {os.strerror(errno)}")


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 when it has none (or it is disabled)."""
    version = _libc.syscall(_SYS_LANDLOCK_CREATE_RULESET, None, 0, _LANDLOCK_CREATE_RULESET_VERSION)
    return max(0, version)


def _handled(abi: int) -> int:
    """Every filesystem right the kernel knows: what it then denies outside the rules."""
    bits = 13  # ABI 1: execute .. make symlink
    if abi >= 2:
        bits = 14  # refer
    if abi >= 3:
        bits = 15  # truncate
    if abi >= 5:
        bits = 16  # ioctl on devices
    return (1 << bits) - 1


def landlock(rules: list[tuple[str, str]]) -> bool:
    """Restrict this process (and what it execs) to ``rules``: (path, "r" | "rw") pairs.
    False when the kernel has no Landlock; raises when it has one and a step fails."""
    abi = landlock_abi()
    if abi < 1:
        return False
    handled = _handled(abi)
    attr = (ctypes.c_uint64 * 3)(handled, 0, _SCOPE_SIGNAL if abi >= 6 else 0)
    ruleset = _libc.syscall(_SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), 24, 0)
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset")
    try:
        for path, mode in rules:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue  # gone since the rules were made
            try:
                allowed = _READ if mode == "r" else handled
                if not os.path.isdir(f"/proc/self/fd/{fd}"):
                    allowed &= _FILE_RIGHTS
                rule = (ctypes.c_uint8 * 12).from_buffer_copy(
                    allowed.to_bytes(8, sys.byteorder) + fd.to_bytes(4, sys.byteorder, signed=True)
                )
                if _libc.syscall(_SYS_LANDLOCK_ADD_RULE, ruleset, 1, ctypes.byref(rule), 0):
                    raise OSError(ctypes.get_errno(), f"landlock_add_rule {path}")
            finally:
                os.close(fd)
        prctl(PR_SET_NO_NEW_PRIVS, 1)
        if _libc.syscall(_SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0):
            raise OSError(ctypes.get_errno(), "landlock_restrict_self")
    finally:
        os.close(ruleset)
    return True


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None):
    enc = lambda text: text.encode() if text is not None else None  # noqa: E731
    if _libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)):
        errno = ctypes.get_errno()
        raise OSError(errno, f"mount {target}: {os.strerror(errno)}")


def _within(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def hide(paths: list[str], keep: list[str], writable: str = "") -> None:
    """In a mount namespace of this process's own, cover each of ``paths`` with an empty
    read-only tmpfs, keeping the paths in ``keep`` that lie inside them visible (bind-mounted
    back from descriptors opened before they were covered; read-only but for ``writable``).
    Not root: in a user namespace of its own first (same uid and gid, mapped to themselves)."""
    uid, gid = os.getuid(), os.getgid()
    if os.geteuid() == 0:
        _unshare(CLONE_NEWNS)
    else:
        _unshare(CLONE_NEWUSER | CLONE_NEWNS)
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"),
                           ("gid_map", f"{gid} {gid} 1")):  # fmt: skip
            with open(f"/proc/self/{name}", "w") as out:
                out.write(text)
    _mount(None, "/", None, MS_REC | MS_PRIVATE, None)
    covered = [path for path in paths if os.path.exists(path)]
    held = {}
    for path in sorted(keep, key=len):
        if any(_within(path, c) for c in covered) and not any(_within(path, h) for h in held):
            with contextlib.suppress(OSError):
                held[path] = os.open(path, os.O_PATH | os.O_CLOEXEC)
    flags = MS_NOSUID | MS_NODEV
    for path in sorted(covered, key=len):
        _mount("tmpfs", path, "tmpfs", flags, "mode=0755,size=64k")
    for path, fd in sorted(held.items(), key=lambda item: len(item[0])):
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            os.makedirs(path, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            open(path, "a").close()
        _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC, None)
        os.close(fd)
        if path != writable:
            with contextlib.suppress(OSError):  # flags locked by a user namespace: left as is
                _mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | flags, None)
    for path in covered:
        _mount("tmpfs", path, "tmpfs", MS_REMOUNT | MS_RDONLY | flags, "mode=0755")


def _unshare(flags: int) -> None:
    if _libc.unshare(flags):
        errno = ctypes.get_errno()
        raise OSError(errno, f"unshare: {os.strerror(errno)}")


def descendants(root: int) -> list[int]:
    """Every process below ``root``, parents before children (``/proc/<pid>/task/*/children``)."""
    found: list[int] = []
    pending = [root]
    while pending:
        pid = pending.pop()
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{pid}/task/{task}/children", "rb") as children:
                    kids = [int(kid) for kid in children.read().split()]
            except (OSError, ValueError):
                continue
            found += kids
            pending += kids
    return found


def resident_bytes(pids: list[int]) -> int:
    page = os.sysconf("SC_PAGE_SIZE")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm", "rb") as statm:
                total += int(statm.read().split()[1]) * page
        except (OSError, ValueError, IndexError):
            continue
    return total


def kill_tree() -> None:
    """SIGKILL every descendant and reap them, again until none is left (an orphan's parent
    dying hands it to us: the next round finds it)."""
    me = os.getpid()
    while found := descendants(me):
        for pid in found:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        while True:
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                break
            except InterruptedError:
                continue


def _become_worker(settings: dict, close: list[int], supervisor: int) -> None:
    """In the forked child: take the worker's limits and identity, then exec (never returns)."""
    signal.set_wakeup_fd(-1)
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD):
        signal.signal(number, signal.SIG_DFL)
    for fd in close:
        os.close(fd)
    if settings.get("address_space_mb"):
        limit = settings["address_space_mb"] << 20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    if settings.get("hide"):
        try:
            hide(settings["hide"], settings.get("keep") or [], settings.get("writable", ""))
        except OSError as exc:
            if settings.get("hide_required"):
                raise
            os.write(2, f"logsieve: the data directory stays visible: {exc}\n".encode())
    if settings.get("uid") is not None:
        os.setgroups([])
        os.setresgid(settings["gid"], settings["gid"], settings["gid"])
        os.setresuid(settings["uid"], settings["uid"], settings["uid"])
    elif os.geteuid() == 0 and settings.get("drop_capabilities"):
        # Still uid 0 (no other user can run the interpreter): a root without capabilities.
        for capability in range(64):
            if _libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
                break  # past the last capability the kernel knows
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # after setuid, which clears it
    if os.getppid() != supervisor:
        os._exit(1)  # the supervisor is already gone
    if settings.get("landlock") is not None:
        landlock([(path, mode) for path, mode in settings["landlock"]])
    os.chdir(settings["cwd"])
    command = settings["command"]
    os.execve(command[0], command, os.environ)


def _watch(worker: int, settings: dict, watchdog: int, status: int, wake: int, stop: list) -> int:
    """Wait for the first reason to end; the worker's wait status (or a SIGKILL status)."""
    killed = signal.SIGKILL  # a wait status meaning "killed by SIGKILL"
    limit = (settings.get("memory_mb") or 0) << 20
    poller = select.poll()
    poller.register(wake, select.POLLIN)
    poller.register(watchdog, select.POLLIN)
    interval = MEMORY_POLL_MS[0] if limit else None
    while True:
        for fd, _ in poller.poll(interval):
            if fd == watchdog:
                return killed  # the server is gone: so is everything it started
            with contextlib.suppress(OSError):
                while os.read(wake, 512):
                    pass
        if stop:
            return killed
        while True:
            try:
                pid, code = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return killed
            if pid == 0:
                break
            if pid == worker:
                return code
        if limit:
            headroom = limit - resident_bytes(descendants(os.getpid()))
            if headroom < 0:
                os.write(status, OUT_OF_MEMORY)
                return killed
            interval = min(max(headroom * 1000 // GROWTH, MEMORY_POLL_MS[0]), MEMORY_POLL_MS[1])


def _exit_like(code: int) -> None:
    """End this process the way the worker ended (its exit status or its signal)."""
    if os.WIFSIGNALED(code):
        number = os.WTERMSIG(code)
        if number not in (signal.SIGKILL, signal.SIGSTOP):
            with contextlib.suppress(OSError, ValueError):
                signal.signal(number, signal.SIG_DFL)
                signal.pthread_sigmask(signal.SIG_UNBLOCK, [number])
        os.kill(os.getpid(), number)
        os._exit(128 + number)
    os._exit(os.WEXITSTATUS(code) if os.WIFEXITED(code) else 1)


def main() -> None:
    if sys.argv[1] == "--probe-hide":  # can this kernel and this user hide a directory?
        hide([sys.argv[2]], [])
        return
    settings = json.loads(sys.argv[1])
    watchdog, status = settings["watchdog_fd"], settings["status_fd"]
    prctl(PR_SET_CHILD_SUBREAPER, 1)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # dying like the worker dumps no core
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wake_w)
    stop: list[int] = []
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(number, lambda number, _frame: stop.append(number))
    signal.signal(signal.SIGCHLD, lambda _number, _frame: None)
    me = os.getpid()
    worker = os.fork()
    if worker == 0:
        try:
            _become_worker(settings, [wake_r, wake_w, watchdog, status], me)
        except BaseException as exc:
            os.write(2, f"logsieve: cannot start the function's runtime: {exc}\n".encode())
        os._exit(127)
    os.write(status, worker.to_bytes(4, "little"))
    code = _watch(worker, settings, watchdog, status, wake_r, stop)
    kill_tree()
    _exit_like(code)


if __name__ == "__main__":
    main()
