"""The EC2 subset logsieve serves: VPCs, subnets, interfaces, flow logs, Client VPN, tags."""

from __future__ import annotations

from .build import build_ec2, connection_log_writer
from .connect import Attempt, Outcome
from .service import Ec2Service

__all__ = ["Attempt", "Ec2Service", "Outcome", "build_ec2", "connection_log_writer"]
