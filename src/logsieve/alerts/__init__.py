"""Alert rules: templates, digests, dedup, thresholds and distinct counts, plus ready recipes.

Import-light on purpose: ``logsieve.sections`` imports :mod:`.config` (the ``[[alerts]]``
section) whenever the configuration loads, so nothing here pulls in Jinja2 or SQLite until an
engine or a template is needed.
``AlertEngine`` is resolved lazily (PEP 562) for the same reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .config import AlertRule, Distinct, Threshold, check_channels, parse_alerts, parse_duration

if TYPE_CHECKING:
    from .engine import AlertEngine

__all__ = [
    "AlertEngine",
    "AlertRule",
    "Distinct",
    "Threshold",
    "check_channels",
    "parse_alerts",
    "parse_duration",
]


def __getattr__(name: str) -> Any:
    if name == "AlertEngine":
        from .engine import AlertEngine

        return AlertEngine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
