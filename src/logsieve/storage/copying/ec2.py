"""Copy the EC2 subset's resources with their ids, data, tags and creation times (flow logs and
Client VPN endpoints name VPCs, subnets and interfaces by id, so ids must not change), kind by
kind in creation order, with the marker saying the default VPC was made (so the cluster does
not make a second one)."""

from __future__ import annotations

import dataclasses

from ..ec2 import Ec2Store
from .report import PAGE, CopyReport, Say

__all__ = ["KINDS", "copy_ec2"]

# Every kind the EC2 subset stores (ec2/resources.py KINDS, and the default-VPC marker), in an
# order where what a resource names is copied before it.
KINDS = (
    "account-defaults",
    "vpc",
    "subnet",
    "network-interface",
    "vpc-flow-log",
    "client-vpn-endpoint",
    "client-vpn-target-network",
    "client-vpn-connection",
)


def copy_ec2(source: Ec2Store, target: Ec2Store, report: CopyReport, say: Say) -> None:
    for kind in KINDS:
        after = 0
        while page := source.list(kind, after, PAGE):
            for row in page:
                new = target.get(row.id) is None
                if new:
                    target.create(dataclasses.replace(row, seq=0))
                report.add("EC2 resources", new)
            after = page[-1].seq
    say(f"EC2: {report.copied.get('EC2 resources', 0)} resources copied")
