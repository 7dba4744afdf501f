"""The world's Client VPN users: they connect, stay a while, and leave.

Each round makes one connection attempt on every ``available`` endpoint (one with a target
network: clients cannot reach a ``pending-associate`` endpoint), through the operator route
``POST /_logsieve/client-vpn/<id>/connect``: the server runs the endpoint's client connect
handler, records the connection and logs the attempt where logging is enabled. An allowed
connection stays for a random time (``session_seconds`` on average) while its counters grow in
DescribeClientVpnConnections, then ends through ``.../disconnect`` (the client left or its
link reset), which logs AWS's ``connection-reset`` record. Users still connected when the
world stops leave then, so no connection stays active forever.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from typing import Any

from logsieve.shipping.client import Target

from .fake import doc_ip

__all__ = ["VpnClients"]

_USERS = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi")
_PLATFORMS = (("mac", "14.4.1"), ("windows", "10.0.22631"), ("linux", "6.8.0"), ("ios", "17.4"))


@dataclass(frozen=True)
class _Session:
    endpoint_id: str
    connection_id: str
    leaves_at: float  # time.monotonic()


class VpnClients:
    """Simulated users of every available Client VPN endpoint of the account."""

    def __init__(
        self, target: Target, ec2: Any, rng: random.Random, session_seconds: float = 60.0
    ) -> None:
        self.target = target
        self.ec2 = ec2
        self.rng = rng
        self.session_seconds = session_seconds
        self.sessions: list[_Session] = []
        self.attempts = self.allowed = self.ended = 0

    def round(self) -> None:
        """Those whose time is up leave, then one attempt on each available endpoint."""
        self.leave(time.monotonic())
        for endpoint in self.ec2.describe_client_vpn_endpoints()["ClientVpnEndpoints"]:
            if endpoint["Status"]["Code"] != "available":
                continue
            platform, version = self.rng.choice(_PLATFORMS)
            endpoint_id = endpoint["ClientVpnEndpointId"]
            outcome = self._post(
                endpoint_id, "connect",
                {"username": self.rng.choice(_USERS), "common-name": "client1",
                 "platform": platform, "platform-version": version,
                 "public-ip": doc_ip(self.rng), "port": self.rng.randint(1024, 65535)},
            )  # fmt: skip
            self.attempts += 1
            if outcome.get("allowed"):
                self.allowed += 1
                stay = self.rng.expovariate(1 / self.session_seconds)
                self.sessions.append(
                    _Session(endpoint_id, outcome["connectionId"], time.monotonic() + stay)
                )

    def leave(self, now: float) -> None:
        """Users whose session is over (all of them with ``now=inf``) disconnect."""
        staying = []
        for session in self.sessions:
            if session.leaves_at > now:
                staying.append(session)
                continue
            # a 400 means the connection was already ended (terminated, endpoint gone...)
            if self._post(session.endpoint_id, "disconnect",
                          {"connection-id": session.connection_id}):  # fmt: skip
                self.ended += 1
        self.sessions = staying

    def _post(self, endpoint_id: str, action: str, body: dict[str, Any]) -> dict[str, Any]:
        """A signed operator call; its JSON answer, or {} when it was refused."""
        import httpx
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        url = f"{self.target.endpoint_url}/_logsieve/client-vpn/{endpoint_id}/{action}"
        data = json.dumps(body).encode()
        request = AWSRequest(method="POST", url=url, data=data,
                             headers={"Content-Type": "application/json"})  # fmt: skip
        credentials = Credentials(self.target.access_key_id, self.target.secret_access_key)
        SigV4Auth(credentials, "logs", self.target.region).add_auth(request)
        response = httpx.post(url, content=data, headers=dict(request.headers.items()), timeout=60)
        return response.json() if response.status_code == 200 else {}
