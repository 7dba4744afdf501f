"""What ``logsieve sources`` and ``GET /_logsieve/sources`` show about one source."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SourceStatus"]


@dataclass
class SourceStatus:
    """Updated by the source and its supervisor; read by the operator route."""

    name: str
    type: str
    state: str = "starting"  # starting | running | listening | retrying | stopped
    lag_seconds: float | None = None  # how far behind the remote the stored events are
    events_received: int = 0  # since this server started
    last_error: str | None = None
    last_error_time: float | None = None
    last_event_time: float | None = None  # wall clock of the last write
    position: dict[str, Any] = field(default_factory=dict)

    def failed(self, error: BaseException) -> None:
        self.last_error = f"{type(error).__name__}: {error}"[:500]
        self.last_error_time = time.time()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "state": self.state,
            "lagSeconds": self.lag_seconds,
            "eventsReceived": self.events_received,
            "lastError": self.last_error,
            "lastErrorTime": self.last_error_time,
            "lastEventTime": self.last_event_time,
            "position": self.position,
        }
