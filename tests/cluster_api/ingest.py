"""Sustained PutLogEvents through boto3 in a thread, remembering exactly which events were
acknowledged (a 200 with nothing rejected), and reading a stream back whole."""

from __future__ import annotations

import threading
import time
from typing import Any

BATCH = 20  # events per PutLogEvents


class Ingest:
    """Puts batches of unique messages to one log stream until stopped; ``acked`` holds the
    messages of every batch answered 200, ``failures`` counts the calls that were not."""

    def __init__(self, logs: Any, group: str, stream: str, prefix: str = "") -> None:
        self.logs, self.group, self.stream, self.prefix = logs, group, stream, prefix
        self.acked: list[str] = []
        self.failures = 0
        self.batches = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            messages = [f"{self.prefix}b{self.batches}-e{i}" for i in range(BATCH)]
            self.batches += 1
            now = int(time.time() * 1000)
            try:
                answer = self.logs.put_log_events(
                    logGroupName=self.group,
                    logStreamName=self.stream,
                    logEvents=[{"timestamp": now, "message": m} for m in messages],
                )
            except Exception:  # any failure means "not acknowledged"
                self.failures += 1
                self._stop.wait(0.05)
                continue
            if not answer.get("rejectedLogEventsInfo"):
                self.acked.extend(messages)

    def start(self) -> Ingest:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=120)

    def acked_after(self, count: int) -> bool:
        """More than ``count`` events acknowledged so far (for wait_for)."""
        return len(self.acked) > count


def read_stream(logs: Any, group: str, stream: str) -> list[str]:
    """Every message of the stream, oldest first, through GetLogEvents pages."""
    found: list[str] = []
    kwargs: dict[str, Any] = {"startFromHead": True}
    while True:
        page = logs.get_log_events(logGroupName=group, logStreamName=stream, **kwargs)
        found.extend(event["message"] for event in page["events"])
        if page["nextForwardToken"] == kwargs.get("nextToken"):
            return found
        kwargs["nextToken"] = page["nextForwardToken"]
