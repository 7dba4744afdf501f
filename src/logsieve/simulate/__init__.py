"""Realistic, reproducible traffic for the three AWS log sources logsieve knows.

``generators`` holds the seeded event iterators (VPC Flow Logs, Client VPN, CloudTrail) in
their CloudWatch Logs layout; ``runner.run()`` sends one of them to a server through the real
API, paced and batched like an agent. ``logsieve simulate`` and ``logsieve demo`` use both.
"""

from __future__ import annotations

from .fake import SimEvent
from .generators import GENERATORS, SOURCES, default_group, generate
from .runner import Progress, RunSummary, run

__all__ = [
    "GENERATORS",
    "SOURCES",
    "Progress",
    "RunSummary",
    "SimEvent",
    "default_group",
    "generate",
    "run",
]
