"""PutLogEvents: CloudWatch's batch rules, partial acceptance, and the durable append."""

from __future__ import annotations

from typing import Any

from logsieve.elements import column

from .context import LogsContext, invalid

MAX_BATCH_BYTES = 1_048_576
MAX_EVENT_BYTES = 1_048_576
EVENT_OVERHEAD = 26  # bytes AWS adds to every event when sizing a batch
MAX_SPAN_MS = 24 * 3_600_000
TOO_NEW_MS = 2 * 3_600_000
TOO_OLD_MS = 14 * 24 * 3_600_000
DAY_MS = 24 * 3_600_000


def utf8_size(message: str) -> int:
    """Bytes of the message in UTF-8 (AWS sizes batches that way)."""
    return len(message) if message.isascii() else len(message.encode("utf-8", "surrogatepass"))


def _prefix_end(timestamps: list[int], cutoff: int) -> int:
    """How many leading (sorted) timestamps are below ``cutoff``."""
    n = 0
    for ts in timestamps:
        if ts >= cutoff:
            break
        n += 1
    return n


class Ingest:
    def __init__(self, ctx: LogsContext) -> None:
        self.ctx = ctx

    def put_log_events(self, params: dict[str, Any]) -> dict[str, Any]:
        group = self.ctx.group(params)
        stream = self.ctx.stream(group, params["logStreamName"])
        events = params["logEvents"]
        timestamps = column(events, "timestamp")
        if timestamps != sorted(timestamps):  # timsort: one C-level pass on sorted input
            raise invalid(
                "Log events in a single PutLogEvents request must be in chronological order."
            )
        messages = column(events, "message")
        if all(map(str.isascii, messages)):  # the usual case: one C-level pass each
            sizes = list(map(len, messages))
        else:
            sizes = [utf8_size(m) for m in messages]
        biggest = max(sizes) + EVENT_OVERHEAD
        if biggest > MAX_EVENT_BYTES:
            raise invalid(
                f"Log event too large: {biggest} bytes exceeds limit of {MAX_EVENT_BYTES}"
            )
        total = sum(sizes) + EVENT_OVERHEAD * len(events)
        if total > MAX_BATCH_BYTES:
            raise invalid(f"Upload too large: {total} bytes exceeds limit of {MAX_BATCH_BYTES}")

        now = self.ctx.clock()
        rejected: dict[str, int] = {}
        too_old = _prefix_end(timestamps, now - TOO_OLD_MS)
        if too_old:
            rejected["tooOldLogEventEndIndex"] = too_old
        start = too_old
        if group.retention_days is not None:
            expired = _prefix_end(timestamps, now - group.retention_days * DAY_MS)
            if expired:
                rejected["expiredLogEventEndIndex"] = expired
            start = max(start, expired)
        end = len(events) - _prefix_end([-t for t in reversed(timestamps)], -(now + TOO_NEW_MS))
        if end < len(events):
            rejected["tooNewLogEventStartIndex"] = end
        count = max(0, end - start)
        if count and timestamps[end - 1] - timestamps[start] > MAX_SPAN_MS:
            raise invalid(
                "The batch of log events in a single PutLogEvents request cannot span more "
                "than 24 hours."
            )
        result: dict[str, Any] = {}
        if count:
            whole = count == len(events)
            first_seq = self.ctx.store.append(
                group.id,
                stream.id,
                timestamps if whole else timestamps[start:end],
                messages if whole else messages[start:end],
                sum(sizes) if whole else sum(sizes[start:end]),
                now,
            )
            result["nextSequenceToken"] = f"{first_seq + count - 1:056d}"
            self.ctx.committed(group.id)
        else:
            result["nextSequenceToken"] = f"{0:056d}"
        if rejected:
            result["rejectedLogEventsInfo"] = rejected
        return result
