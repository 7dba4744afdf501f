"""Firehose-style sinks: durable spool, atomic gzip objects with S3-like date prefixes."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest

from logsieve.destinations import FirehoseSink
from logsieve.destinations.firehose import FirehoseDestination, FirehoseStream
from logsieve.errors import ServiceError
from logsieve.formats.awslogs import LogEvent, data_message, decode_any, encode


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def record(n: int) -> bytes:
    payload = data_message("123456789012", "/g", "s", ["f"], [LogEvent(str(n), n, f"event {n}")])
    return encode(payload)


def objects(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*.gz") if ".spool" not in p.parts)


def test_published_by_interval_with_date_prefix_and_concatenated_members(tmp_path: Path) -> None:
    clock = Clock()
    sink = FirehoseSink(FirehoseStream("logs-to-files", tmp_path, buffer_seconds=60), clock)
    for n in range(3):
        sink.put(record(n))
    assert sink.flush() is None  # the interval has not passed
    assert sink.due_in() == 60
    clock.now += 61
    path = sink.flush()
    assert path is not None and objects(tmp_path) == [path]
    relative = path.relative_to(tmp_path).as_posix()
    assert re.fullmatch(
        r"2023/11/14/22/logs-to-files-1-2023-11-14-22-14-21-[0-9a-f-]{36}\.gz", relative
    ), relative
    payloads = decode_any(path.read_bytes())
    assert [p.log_events[0].message for p in payloads] == ["event 0", "event 1", "event 2"]
    assert gzip.decompress(path.read_bytes()).count(b"DATA_MESSAGE") == 3
    assert sink.flush(force=True) is None  # nothing left


def test_published_by_size(tmp_path: Path) -> None:
    sink = FirehoseSink(FirehoseStream("s", tmp_path, buffer_bytes=400), Clock())
    for n in range(10):
        sink.put(record(n))
    assert len(objects(tmp_path)) >= 2


def test_spooled_records_survive_a_restart_and_a_torn_append(tmp_path: Path) -> None:
    settings = FirehoseStream("s", tmp_path, buffer_seconds=60)
    sink = FirehoseSink(settings, Clock())
    sink.put(record(1))
    sink.put(record(2))
    # A crash: no close, no flush; then half a record written before the process died.
    with open(tmp_path / ".spool" / "records", "ab") as spool:
        spool.write(b"\x00\x00\x01\x00partial")
    reopened = FirehoseSink(settings, Clock())
    path = reopened.flush(force=True)
    assert path is not None
    assert [p.log_events[0].message for p in decode_any(path.read_bytes())] == [
        "event 1", "event 2",
    ]  # fmt: skip


def test_no_partial_files_are_visible(tmp_path: Path) -> None:
    sink = FirehoseSink(FirehoseStream("s", tmp_path), Clock())
    sink.put(record(1))
    sink.flush(force=True)
    assert not [p for p in tmp_path.rglob("*.tmp")]


def test_control_message_on_check_and_refusal_when_the_disk_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sink = FirehoseSink(FirehoseStream("s", tmp_path), Clock())
    FirehoseDestination("arn:aws:firehose:us-east-1:123456789012:deliverystream/s", sink).check(
        "arn:aws:logs:us-east-1:123456789012:log-group:g:*"
    )
    (payload,) = decode_any(sink.flush(force=True).read_bytes())  # type: ignore[union-attr]
    assert payload.message_type == "CONTROL_MESSAGE"
    assert payload.owner == "CloudwatchLogs"
    assert payload.log_events[0].message == (
        "CWL CONTROL MESSAGE: Checking health of destination Firehose."
    )

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.fsync", disk_full)
    with pytest.raises(ServiceError) as failure:
        FirehoseDestination("arn", sink).check("src")
    assert failure.value.code == "InvalidParameterException"
    assert "No space left on device" in failure.value.message
