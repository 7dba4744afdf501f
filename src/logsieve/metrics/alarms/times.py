"""The time and number spellings of CloudWatch's alarm texts (Java's, on AWS)."""

from __future__ import annotations

import datetime as _dt


def iso_millis(ms: float) -> str:
    """``yyyy-MM-dd'T'HH:mm:ss.SSS+0000``: alarm messages, reason data and history data."""
    moment = _dt.datetime.fromtimestamp(ms / 1000, _dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def reason_time(seconds: float) -> str:
    """``dd/MM/yy HH:mm:ss`` (UTC): a datapoint's period start in a state reason."""
    return _dt.datetime.fromtimestamp(seconds, _dt.UTC).strftime("%d/%m/%y %H:%M:%S")


def java_double(value: float) -> str:
    """``Double.toString``: ``21.0``, ``0.0666851903306472``, ``1.0E7``, ``1.0E-4``."""
    if value != value or value in (float("inf"), float("-inf")):
        return {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}[repr(value)]
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        return repr(float(value))
    _mantissa, _, exponent = f"{value:.17e}".partition("e")
    shortest = repr(float(value))
    digits = shortest.replace("-", "").replace(".", "").split("e")[0].lstrip("0").rstrip("0")
    digits = digits or "0"
    sign = "-" if value < 0 else ""
    head, tail = digits[0], digits[1:] or "0"
    return f"{sign}{head}.{tail}E{int(exponent)}"
