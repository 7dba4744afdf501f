"""Parsed requests as plain values, for comparing with what a client sent."""

from __future__ import annotations

from typing import Any

import msgspec

from logsieve.elements import CheckedList


def plain(params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with each ``CheckedList`` (structs from the fast decoder) as a list of dicts."""
    return {
        name: [msgspec.structs.asdict(e) for e in value] if type(value) is CheckedList else value
        for name, value in params.items()
    }
