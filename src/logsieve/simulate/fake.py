"""Realistic-looking identifiers, addresses and times, all drawn from one seeded ``Random``.

Everything the simulators invent comes through here so a seed reproduces a run exactly, and so
no value can collide with a real one: public addresses come from the documentation ranges
(RFC 5737 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 and RFC 3849 2001:db8::/32), the
account id is AWS's placeholder, ids are random hex of the right shape.
"""

from __future__ import annotations

import random
import string
import time
from typing import NamedTuple

__all__ = [
    "DOC_NETS",
    "SimEvent",
    "TimeText",
    "az_id",
    "doc_ip",
    "hex_id",
    "request_id_s3",
    "uuid4",
]

DOC_NETS = ("192.0.2.", "198.51.100.", "203.0.113.")
_UPPER_DIGITS = string.ascii_uppercase + string.digits


class SimEvent(NamedTuple):
    """One simulated log event: the log stream it goes to, its timestamp, its message."""

    stream: str
    timestamp: int  # ms since the epoch
    message: str


def hex_id(rng: random.Random, digits: int = 17) -> str:
    """Lower-case hex of a fixed length (``eni-`` / ``i-`` / ``cvpn-endpoint-`` suffixes)."""
    return f"{rng.getrandbits(4 * digits):0{digits}x}"


_UUID_CLEAR = ~((0xF << 76) | (0xC << 60))
_UUID_SET = (0x4 << 76) | (0x8 << 60)  # version 4, RFC 4122 variant


def uuid4(rng: random.Random) -> str:
    """A version-4 UUID string from ``rng`` (``uuid.uuid4`` cannot be seeded)."""
    h = f"{(rng.getrandbits(128) & _UUID_CLEAR) | _UUID_SET:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def request_id_s3(rng: random.Random) -> str:
    """S3's 16-character upper-case request ids."""
    return "".join(rng.choices(_UPPER_DIGITS, k=16))


def doc_ip(rng: random.Random) -> str:
    """A public-looking IPv4 address from a documentation range."""
    return f"{DOC_NETS[rng.randrange(3)]}{rng.randint(1, 254)}"


def az_id(region: str, number: int) -> str:
    """``use1-az2`` for ("us-east-1", 2): AWS's AZ id shape (region initials + zone)."""
    parts = region.split("-")
    if len(parts) < 3:
        return f"{region}-az{number}"
    return f"{parts[0]}{''.join(p[0] for p in parts[1:-1])}{parts[-1]}-az{number}"


class TimeText:
    """``strftime`` of whole UTC seconds, cached for the current second.

    The simulators emit thousands of events per simulated second, all carrying the same
    formatted time; formatting once per second keeps the generators fast.
    """

    __slots__ = ("_fmt", "_second", "_text")

    def __init__(self, fmt: str) -> None:
        self._fmt = fmt
        self._second = -1
        self._text = ""

    def __call__(self, second: int) -> str:
        if second != self._second:
            self._second = second
            self._text = time.strftime(self._fmt, time.gmtime(second))
        return self._text
