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


def _hex(address: tuple, table: str) -> str:
    """An endpoint as the kernel prints it in ``table``: address words in host byte order,
    then the port (an IPv4 peer appears in ``tcp6`` as an IPv4-mapped address)."""
    ip = ipaddress.ip_address(address[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if table.endswith("6") and isinstance(ip, ipaddress.IPv4Address):
        ip = ipaddress.IPv6Address(b"\0" * 10 + b"\xff\xff" + ip.packed)
    packed = ip.packed
    if len(packed) == 16 and not table.endswith("6"):
        return ""  # an IPv6 peer is not in the IPv4 table
    words = (int.from_bytes(packed[i : i + 4], sys.byteorder) for i in range(0, len(packed), 4))
    return "".join(f"{word:08X}" for word in words) + f":{int(address[1]):04X}"


def peer_inode(conn: socket.socket) -> int | None:
    """The inode of the socket at the other end of ``conn`` (an accepted loopback
    connection), or None when it is not in this network namespace's tables any more."""
    try:
        ours, theirs = conn.getsockname(), conn.getpeername()
    except OSError:
        return None
    for table in _TABLES:
        local, remote = _hex(theirs, table), _hex(ours, table)
        if not local:
            continue
        try:
            with open(table, encoding="ascii") as lines:
                for line in lines:
                    if local not in line:  # cheap first: most lines are other sockets
                        continue
                    fields = line.split()
                    if len(fields) > 9 and fields[1:3] == [local, remote]:
                        return int(fields[9]) or None
        except (OSError, ValueError):
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
