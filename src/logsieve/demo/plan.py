"""What the demo runs: the three sources, their rates, and the alert rules on them.

The rates are chosen for a timeline a person can follow, not for throughput (``bench/`` does
that): at ``--rate 1`` a minute brings about a dozen VPN-connection emails, two dozen
IAM-activity emails and one or two Datadog events a second from a VPC with a steady stream of
probes. The flow logs run faster because most flows are ordinary traffic that matches nothing;
CloudTrail watches ``alice`` (CLI, many calls) and ``ops-admin`` (console, the risky changes)
because together they act often enough that the first IAM email comes within seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

from logsieve.simulate import default_group

__all__ = [
    "ACCOUNT_ID",
    "EMAIL_TO",
    "REGION",
    "SOURCES",
    "WATCHED_USERS",
    "SourcePlan",
    "sources",
]

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
EMAIL_TO = "security@example.com"
WATCHED_USERS = ("alice", "ops-admin")  # IAM users of the CloudTrail simulator


@dataclass(frozen=True)
class SourcePlan:
    """One simulator: its name, the log group it writes to, events per second."""

    source: str
    group: str
    rate: float


# events per second at --rate 1
SOURCES: dict[str, float] = {"vpc-flow": 100.0, "client-vpn": 1.0, "cloudtrail": 2.0}


def sources(scale: float = 1.0) -> list[SourcePlan]:
    """The three simulators with their rates multiplied by ``scale`` (``--rate``)."""
    return [
        SourcePlan(name, default_group(name, ACCOUNT_ID), rate * scale)
        for name, rate in SOURCES.items()
    ]
