"""The simulators by name: seeded, endless iterators of ``SimEvent(stream, timestamp, message)``.

Each generator keeps a simulated clock that starts at ``start_ms`` and advances ``1/rate``
seconds per event, so ``rate`` is both the events per simulated second and -- when the runner
paces sending to the wall clock -- the events per real second. The same (seed, start, rate,
options) always give the same events, which is what makes runs reproducible.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from .client_vpn import client_vpn
from .cloudtrail import cloudtrail
from .fake import SimEvent
from .vpc_flow import vpc_flow

__all__ = [
    "GENERATORS",
    "SOURCES",
    "SimEvent",
    "client_vpn",
    "cloudtrail",
    "default_group",
    "generate",
    "vpc_flow",
]

GENERATORS: dict[str, Callable[..., Iterator[SimEvent]]] = {
    "vpc-flow": vpc_flow,
    "client-vpn": client_vpn,
    "cloudtrail": cloudtrail,
}
SOURCES = tuple(GENERATORS)


def default_group(source: str, account_id: str = "123456789012") -> str:
    """The log group a source delivers to unless told otherwise: ``/aws/vpc/flow-logs``,
    ``/aws/vpn/connections``, and CloudTrail's console default
    ``aws-cloudtrail-logs-<account>-<8 hex>`` (a fixed suffix, the one the samples use)."""
    if source == "vpc-flow":
        return "/aws/vpc/flow-logs"
    if source == "client-vpn":
        return "/aws/vpn/connections"
    if source == "cloudtrail":
        return f"aws-cloudtrail-logs-{account_id}-4f9a2b1c"
    raise ValueError(f"unknown source {source!r}; one of {', '.join(SOURCES)}")


def generate(
    source: str,
    *,
    seed: int | None = None,
    start_ms: int = 0,
    rate: float = 100.0,
    account_id: str = "123456789012",
    region: str = "us-east-1",
    **options: Any,
) -> Iterator[SimEvent]:
    """The generator for ``source`` with the common arguments filled in; ``options`` are the
    source's own (vpc-flow: ``format``, ``traffic_type``)."""
    try:
        make = GENERATORS[source]
    except KeyError:
        raise ValueError(f"unknown source {source!r}; one of {', '.join(SOURCES)}") from None
    if source != "client-vpn":
        options["account_id"] = account_id
    return make(seed, start_ms, rate, region=region, **options)
