"""Which process is at the other end of a loopback TCP connection (Linux ``/proc``).

The Runtime API must speak TCP (awslambdaric's client only knows ``host:port``), and any local
process can connect to a loopback port. So on accept the endpoint asks: is the peer's socket
one of the worker process's open files? The peer socket is found in ``/proc/net/tcp`` (and
``tcp6``, for a client on an IPv4-mapped address) by its four-tuple, which gives its inode;
the worker owns the connection when ``/proc/<worker>/fd`` holds ``socket:[inode]``.

This costs one read of the socket tables and one look at the worker's descriptors per new
connection; awslambdaric keeps its connection open, so a warm invocation pays nothing.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys

_TABLES = ("/proc/net/tcp", "/proc/net/tcp6")
_ESTABLISHED = "01"


def _endpoint(text: str) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]:
    """``0100007F:1F90`` (address words in host byte order, port big-endian) as a pair."""
    address, port = text.split(":")
    raw = b"".join(
        int(address[i : i + 8], 16).to_bytes(4, sys.byteorder) for i in range(0, len(address), 8)
    )
    ip = ipaddress.ip_address(raw)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip, int(port, 16)


def _pair(address: tuple) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]:
    ip = ipaddress.ip_address(address[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip, int(address[1])


def peer_inode(conn: socket.socket) -> int | None:
    """The inode of the socket at the other end of ``conn`` (an accepted loopback
    connection), or None when it is not in this network namespace's tables any more."""
    try:
        ours, theirs = _pair(conn.getsockname()), _pair(conn.getpeername())
    except OSError:
        return None
    for table in _TABLES:
        try:
            with open(table, encoding="ascii") as lines:
                next(lines, None)  # the column titles
                for line in lines:
                    fields = line.split()
                    if len(fields) < 10 or fields[3] != _ESTABLISHED:
                        continue
                    try:
                        if _endpoint(fields[1]) == theirs and _endpoint(fields[2]) == ours:
                            return int(fields[9]) or None
                    except ValueError:
                        continue
        except OSError:
            continue
    return None


def owns(pid: int, inode: int) -> bool:
    """Whether process ``pid`` has the socket ``inode`` among its open files."""
    wanted = f"socket:[{inode}]"
    directory = f"/proc/{pid}/fd"
    try:
        names = os.listdir(directory)
    except OSError:
        return False
    for name in names:
        try:
            if os.readlink(f"{directory}/{name}") == wanted:
                return True
        except OSError:
            continue
    return False


def connected_by(conn: socket.socket, pid: int | None) -> bool:
    """Whether the peer of ``conn`` is a socket held by process ``pid``."""
    if pid is None:
        return False
    inode = peer_inode(conn)
    return inode is not None and owns(pid, inode)
