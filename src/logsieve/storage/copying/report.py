"""What a copy run reports, shared by every kind's copier."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["PAGE", "CopyReport", "Say"]

PAGE = 1000  # rows per listing call

Say = Callable[[str], None]


@dataclass
class CopyReport:
    """What one run did: counts per kind (``copied``) and what was already there."""

    copied: dict[str, int] = field(default_factory=dict)
    present: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, created: bool, count: int = 1) -> None:
        into = self.copied if created else self.present
        into[kind] = into.get(kind, 0) + count
