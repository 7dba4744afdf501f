"""One API call as the HTTP front saw it: what the recorder turns into a CloudTrail event.

A plain value, so ``api/`` can hand it over without knowing anything of CloudTrail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ApiCall:
    service: str  # the SigV4 signing name: logs, lambda, sns, kinesis, cloudtrail, ec2...
    operation: str  # the model's operation name
    params: dict[str, Any] | None  # validated parameters, None when they did not parse
    result: dict[str, Any] | None
    error_code: str | None
    error_message: str | None
    access_key_id: str
    source_ip: str
    user_agent: str
    request_id: str
    time: float  # epoch seconds
    region: str
