"""Firehose-style delivery streams: records buffered durably, published as gzip'd files.

A delivery stream is a directory. Every record is appended to a spool file and fsynced before
``put`` returns, so a confirmed record survives a crash, like a record Firehose accepted. When
the spool reaches the buffer size or age (Firehose's buffering hints), its records are
published as one object under an S3-like date prefix,
``YYYY/MM/DD/HH/<stream>-1-YYYY-MM-DD-HH-MM-SS-<id>.gz``, written to a temporary name, fsynced
and renamed, so readers never see a partial file. Subscription records are gzip members
already, so an object is their concatenation: ``gzip -dc`` prints the payloads one after
another, as with the S3 objects a real Firehose writes from CloudWatch Logs.

A crash between publishing and clearing the spool publishes those records again on restart:
at least once, never lost.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import re
import struct
import threading
import time
import uuid
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from logsieve.config import Section, check_dir, to_dir
from logsieve.config_values import Invalid, number, read_entries, show
from logsieve.durable import write_atomic
from logsieve.errors import ServiceError
from logsieve.formats.awslogs import Payload, control_message, encode

from .base import DeliveryError

log = logging.getLogger("logsieve.firehose")

SPOOL_DIR = ".spool"
_LENGTH = struct.Struct(">I")
MAX_RECORD_BYTES = 1_000 * 1024  # Firehose's record limit (1,000 KiB)


@dataclass(frozen=True)
class FirehoseStream:
    """A Firehose-style delivery stream (``[[firehose]]``): a directory and buffering hints."""

    name: str
    directory: Path
    buffer_bytes: int = 5 * 1024 * 1024  # Firehose's default buffer size (5 MiB)
    buffer_seconds: float = 60.0  # Firehose defaults to 300 s; a laptop wants it sooner


_NAME_RE = re.compile(r"[a-zA-Z0-9_.-]{1,64}")


def _name(value: Any) -> str:
    if not isinstance(value, str) or not _NAME_RE.fullmatch(value):
        raise Invalid(
            f"must be 1-64 letters, digits, '_', '.' or '-' (got {show(value)})",
            "it is the name in the deliverystream/<name> ARN",
        )
    return value


_CHECKS = {
    "name": _name,
    "directory": check_dir,
    "buffer_size_mb": partial(number, low=1, high=128, hint="use e.g. 5 (Firehose's default)"),
    "buffer_interval_seconds": partial(number, low=0, high=900, hint="use e.g. 60"),
}


def parse_firehose(path: Path, raw: Any) -> tuple[FirehoseStream, ...]:
    """``[[firehose]]`` tables; a directory is relative to the config file."""
    entries = read_entries(
        path, "firehose", raw, "delivery stream with name and directory", _CHECKS,
        required=("name",), checked_defaults={"directory": None},
        twice=lambda name: f"delivery stream {name!r} is declared twice; keep one",
    )  # fmt: skip
    return tuple(
        FirehoseStream(
            entry["name"],
            to_dir(entry["directory"], path.parent),
            int(entry.get("buffer_size_mb", 5) * 1024 * 1024),
            float(entry.get("buffer_interval_seconds", 60)),
        )
        for entry in entries
    )


FIREHOSE: Section[tuple[FirehoseStream, ...]] = Section(
    "firehose", parse_firehose, tuple, array=True
)


class FirehoseSink:
    """A delivery stream's spool and publisher; thread-safe."""

    def __init__(self, settings: FirehoseStream, clock=time.time) -> None:
        self.settings = settings
        self.clock = clock
        spool_dir = settings.directory / SPOOL_DIR
        spool_dir.mkdir(parents=True, exist_ok=True)
        self._spool_path = spool_dir / "records"
        self._lock = threading.Lock()
        self._spool = open(self._spool_path, "ab")  # noqa: SIM115 -- held open for appends
        self._size = self._spool.tell()
        self._oldest: float | None = self.clock() if self._size else None
        self.published = 0  # objects written since start

    @property
    def arn_name(self) -> str:
        return self.settings.name

    def put(self, record: bytes) -> None:
        """Accept a record durably (fsynced); it is published within the buffer interval."""
        if len(record) > MAX_RECORD_BYTES:
            raise ValueError(f"record of {len(record)} bytes exceeds {MAX_RECORD_BYTES}")
        with self._lock:
            self._spool.write(_LENGTH.pack(len(record)) + record)
            self._spool.flush()
            os.fsync(self._spool.fileno())
            self._size += _LENGTH.size + len(record)
            if self._oldest is None:
                self._oldest = self.clock()
            if self._size >= self.settings.buffer_bytes:
                self._publish()

    def due_in(self) -> float | None:
        """Seconds until the buffer interval publishes the spool (None when it is empty)."""
        with self._lock:
            if self._oldest is None:
                return None
            return max(0.0, self._oldest + self.settings.buffer_seconds - self.clock())

    def flush(self, force: bool = False) -> Path | None:
        """Publish the spool if its interval has passed (or ``force``); the object's path."""
        with self._lock:
            if self._oldest is None:
                return None
            if not force and self.clock() < self._oldest + self.settings.buffer_seconds:
                return None
            return self._publish()

    def close(self) -> None:
        with self._lock:
            self._spool.close()

    def _publish(self) -> Path | None:
        self._spool.flush()
        data = self._spool_path.read_bytes()
        records, offset = [], 0
        while offset + _LENGTH.size <= len(data):
            (length,) = _LENGTH.unpack_from(data, offset)
            end = offset + _LENGTH.size + length
            if end > len(data):  # a torn last append (crash mid-write): never confirmed
                break
            records.append(data[offset + _LENGTH.size : end])
            offset = end
        path = None
        if records:
            path = self._object_path()
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, b"".join(records), mode=0o644)
            self.published += 1
            log.info("firehose published stream=%s records=%d path=%s", self.settings.name,
                     len(records), path)  # fmt: skip
        self._spool.truncate(0)
        self._spool.seek(0)
        os.fsync(self._spool.fileno())
        self._size = 0
        self._oldest = None
        return path

    def _object_path(self) -> Path:
        now = dt.datetime.fromtimestamp(self.clock(), dt.UTC)
        name = f"{self.settings.name}-1-{now:%Y-%m-%d-%H-%M-%S}-{uuid.uuid4()}.gz"
        return self.settings.directory / f"{now:%Y/%m/%d/%H}" / name


class FirehoseDestination:
    """A subscription's view of a delivery stream."""

    def __init__(self, arn: str, sink: FirehoseSink) -> None:
        self.arn = arn
        self.sink = sink

    def check(self, source_arn: str) -> None:
        try:
            self.sink.put(encode(control_message("Firehose", int(time.time() * 1000))))
        except OSError as exc:
            raise ServiceError(
                "InvalidParameterException",
                "Could not deliver test message to specified destination. Check if the "
                f"destination is valid. ({exc.strerror or exc})",
            ) from exc

    def deliver(self, payload: Payload, data: bytes) -> None:
        try:
            self.sink.put(data)
        except OSError as exc:
            raise DeliveryError(f"writing to {self.sink.settings.directory}: {exc}") from exc


async def publish_when_due(sinks: list[FirehoseSink], idle_poll: float = 0.25) -> None:
    """Publish each delivery stream's spool when its buffer interval passes (runs forever)."""
    while True:
        waits = [due for due in (sink.due_in() for sink in sinks) if due is not None]
        await asyncio.sleep(min([idle_poll, *waits]))
        for sink in sinks:
            try:
                await asyncio.to_thread(sink.flush)
            except OSError:  # the spool stays; the next pass tries again
                log.exception("publishing firehose stream %s failed", sink.settings.name)
