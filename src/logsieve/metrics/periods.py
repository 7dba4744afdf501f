"""Time in CloudWatch requests: timestamps as sent, readable periods, StartTime alignment."""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any

from logsieve.errors import ServiceError

__all__ = ["align_start", "check_period", "to_seconds"]

_SUB_MINUTE = (1, 5, 10, 20, 30)


def to_seconds(value: Any) -> float:
    """A timestamp member as sent (epoch seconds, or ISO 8601 text) in epoch seconds."""
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, _dt.datetime):
        return value.timestamp()
    moment = _dt.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.UTC)
    return moment.timestamp()


def check_period(period: int) -> None:
    """Periods CloudWatch reads: 1, 5, 10, 20, 30 or a multiple of 60 seconds."""
    if period not in _SUB_MINUTE and period % 60:
        raise ServiceError(
            "InvalidParameterValue", "The parameter Period must be a multiple of 60."
        )


def align_start(start: float, period: int, now: float) -> int:
    """StartTime rounded down as CloudWatch rounds it: to the sub-minute period for
    sub-minute periods, else to the minute (under 15 days ago), 5 minutes (15-63 days) or
    the hour (older)."""
    seconds = math.floor(start)
    if period < 60:
        step = period
    elif now - start < 15 * 86400:
        step = 60
    elif now - start < 63 * 86400:
        step = 300
    else:
        step = 3600
    return seconds - seconds % step
