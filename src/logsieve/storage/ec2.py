"""The storage interface of the EC2 subset's resources (``ec2/`` depends on this only).

VPCs, subnets, network interfaces, flow logs, Client VPN endpoints and their connections are
all small documents read and written whole, looked up by id and listed by kind in creation
order, so one shape serves them all: a ``ResourceRow`` holds the resource as the service
describes it (``data``) and its tags. Its own database file (``ec2.db``): configuration is
tiny, rarely written, and must never wait behind log ingestion. ``ec2_sqlite.py`` is the
embedded implementation; a scale-out engine implements the same protocol.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["Ec2Store", "ResourceRow"]


@dataclass(frozen=True)
class ResourceRow:
    """One EC2 resource: ``id`` (``vpc-0abc...``), ``kind`` (``vpc``, ``flow-log``...), the
    resource's members as described (``data``), its tags (insertion order kept), and ``seq``,
    assigned by the store in creation order (listings page by it; never reused)."""

    id: str
    kind: str
    data: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    created_ms: int = 0
    seq: int = 0


class Ec2Store(Protocol):
    """Durable EC2 resources. Every method is thread-safe and durable on return."""

    def create(self, row: ResourceRow) -> ResourceRow:
        """Insert ``row`` (ValueError if its id exists); the stored row, with its ``seq``."""
        ...

    def get(self, resource_id: str) -> ResourceRow | None: ...

    def list(self, kind: str, after_seq: int = 0, limit: int = 1000) -> Sequence[ResourceRow]:
        """Resources of ``kind`` with ``seq > after_seq`` in creation order, at most ``limit``."""
        ...

    def update(
        self,
        resource_id: str,
        data: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> ResourceRow | None:
        """Replace the resource's data and/or tags; None when it does not exist."""
        ...

    def delete(self, resource_id: str) -> bool:
        """Delete a resource; False when there was none."""
        ...

    def close(self) -> None: ...
