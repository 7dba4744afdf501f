"""The EC2 subset logsieve serves: VPCs, subnets, interfaces, flow logs, Client VPN, tags."""

from __future__ import annotations

from .service import Ec2Service

__all__ = ["Ec2Service"]
