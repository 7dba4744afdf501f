"""Simulated AWS Client VPN connection logs: people connecting, staying, leaving, failing.

Three endpoints, one log stream each in AWS's layout (``formats.client_vpn.log_stream_name``:
``<endpoint>-<region>-<yyyy/mm/dd>-<12 alphanumerics>``), one per authentication style AWS
offers, so every record shape of aws-compat.md 7.2 appears:

* ``corp``: mutual certificate + Active Directory -- records carry ``username``; wrong passwords
  fail with reason ``authentication-failed`` (a free-text reason: AWS documents that user-auth
  failures carry one, not its wording);
* ``sso``: SAML -- a ``waiting-for-assertion`` record precedes each successful connect; an
  authorization policy sometimes denies (``authorization-policy-deny`` with the nested
  ``authorization-policy-evaluation`` object);
* ``devices``: certificate only, with a client-connect handler -- no ``username`` key; the
  handler's failure reasons (``client-connect-failed``, ``...-timed-out``, ...).

A connection logs ``connection-attempt``/``successful`` with zero counters, then periodic
updates (same connection id, growing counters, ``connection-last-update-time`` refreshed),
then a ``connection-reset`` with final counters, end time and duration. Failures are
``connection-attempt``/``failed`` with start time, client IP, end time and duration ``NA``.
Sometimes a burst of failures comes from one internet address (a leaked VPN profile being
tried with guessed user names, or a revoked device retrying). Every value is a string; the
event timestamp is ``connection-last-update-time`` (whole seconds) x 1000.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import accumulate
from typing import Any

import orjson

from logsieve.formats.client_vpn import log_stream_name

from .fake import SimEvent, TimeText, doc_ip, hex_id

__all__ = ["client_vpn"]

NA = "NA"
AD_FAILURE_REASON = "authentication-failed"  # inferred wording, see the module docstring
_HANDLER_REASONS = (
    ("client-connect-failed", 60),
    ("client-connect-handler-timed-out", 14),
    ("client-connect-handler-other-execution-error", 8),
    ("client-connect-handler-throttled", 7),
    ("client-connect-handler-invalid-response", 6),
    ("client-connect-handler-service-error", 5),
)
_GUESSED_NAMES = (
    "admin", "administrator", "root", "test", "vpn", "guest", "user", "support", "backup",
    "alice", "bob", "dave", "helpdesk", "it-admin",
)  # fmt: skip
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


@dataclass(slots=True)
class _Endpoint:
    id: str
    kind: str  # "ad", "saml" or "cert"
    transport: str
    stream: str
    free_ips: list[str]


@dataclass(slots=True)
class _Person:
    endpoint: _Endpoint
    username: str | None
    common_name: str
    device: str
    home_ip: str
    connected: bool = False


@dataclass(slots=True)
class _Session:
    person: _Person
    connection_id: str
    client_ip: str
    device_ip: str
    port: str
    start: int  # seconds
    start_text: str
    bytes_in_per_s: int
    bytes_out_per_s: int
    counters: list[int] = field(default_factory=lambda: [0, 0, 0, 0])


def client_vpn(
    seed: int | None = None,
    start_ms: int = 0,
    rate: float = 100.0,
    *,
    region: str = "us-east-1",
) -> Iterator[SimEvent]:
    """Endless Client VPN connection-log events, ``rate`` per simulated second from
    ``start_ms``; the same arguments give the same events."""
    if rate <= 0:
        raise ValueError("rate must be positive")
    world = _World(random.Random(seed), region, start_ms)
    step_ms = 1000.0 / rate
    clock = float(start_ms)
    rng = world.rng
    actions = world.actions()
    weights = list(accumulate(w for w, _ in actions))
    total = weights[-1]
    choose = [a for _, a in actions]
    while True:
        action: Step | None = choose[bisect(weights, rng.random() * total)]
        while action is not None:  # a step emits one record and may name the next step
            second = int(clock // 1000)
            stream, record, action = action(second)
            yield SimEvent(stream, second * 1000, orjson.dumps(record).decode())
            clock += step_ms


Step = Callable[[int], tuple[str, dict[str, Any], "Step | None"]]


class _World:
    def __init__(self, rng: random.Random, region: str, start_ms: int) -> None:
        self.rng = rng
        day = datetime.fromtimestamp(start_ms / 1000, UTC)

        def endpoint(kind: str, transport: str, prefix: str) -> _Endpoint:
            endpoint_id = f"cvpn-endpoint-{hex_id(rng)}"
            suffix = "".join(rng.choices(_SUFFIX, k=12))
            ips = [f"{prefix}{i // 256}.{i % 256}" for i in range(2, 1000)]
            return _Endpoint(
                endpoint_id, kind, transport, log_stream_name(endpoint_id, region, day, suffix),
                ips,
            )  # fmt: skip

        corp = endpoint("ad", "udp", "172.16.")
        sso = endpoint("saml", "udp", "172.20.")
        devices = endpoint("cert", "tcp", "10.250.")
        self.endpoints = (corp, sso, devices)
        devices_of = ("mac", "win", "linux", "mac", "win", "ios", "android")
        people: list[_Person] = []
        for name in ("alice", "bob", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
                     "ken", "laura", "mike"):  # fmt: skip
            device = rng.choice(devices_of[:3])
            kind = {"mac": "laptop", "win": "laptop", "linux": "desktop"}[device]
            people.append(_Person(corp, name, f"{name}.{kind}.corp.example", device, doc_ip(rng)))
        for name in ("carol", "ops-admin", "nina", "oscar", "peggy", "quinn", "rita", "sam"):
            device = rng.choice(devices_of)
            people.append(_Person(sso, name, f"{name}.laptop.corp.example", device, doc_ip(rng)))
        for cn, device in (
            ("build-agent-01.corp.example", "linux"), ("build-agent-02.corp.example", "linux"),
            ("build-agent-03.corp.example", "linux"), ("kiosk-lobby.corp.example", "win"),
            ("carol.tablet.corp.example", "ios"), ("trent.phone.corp.example", "android"),
            ("victor.laptop.corp.example", "mac"), ("wendy.laptop.corp.example", "win"),
        ):  # fmt: skip
            people.append(_Person(devices, None, cn, device, doc_ip(rng)))
        self.people = people
        self.sessions: list[_Session] = []
        self.time = TimeText("%Y-%m-%d %H:%M:%S")
        self.start_time = TimeText("%Y-%m-%d %H:%M:%S")  # a second cache: start != now
        self.reasons = [r for r, _ in _HANDLER_REASONS]
        self.reason_weights = list(accumulate(w for _, w in _HANDLER_REASONS))
        self.attackers = [doc_ip(rng) for _ in range(8)]
        self.leaked = rng.choice([p for p in people if p.endpoint is corp])

    def actions(self) -> list[tuple[float, Step]]:
        return [
            (22, self.connect),
            (50, self.update),
            (18, self.disconnect),
            (4, self.fail),
            (0.5, self.burst),
        ]

    # -- records ----------------------------------------------------------------------------
    def _record(
        self, person: _Person, kind: str, status: str, reason: str, connection_id: str,
        start: str, now: int, client_ip: str, device_ip: str, port: str,
        counters: list[int] | None, end: str, duration: str,
        evaluation: dict[str, Any] | None = None, username: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        endpoint = person.endpoint
        c = counters or (0, 0, 0, 0)
        record: dict[str, Any] = {
            "connection-log-type": kind,
            "connection-attempt-status": status,
            "connection-reset-status": NA,
            "connection-attempt-failure-reason": reason,
            "connection-id": connection_id,
            "client-vpn-endpoint-id": endpoint.id,
            "transport-protocol": endpoint.transport,
            "connection-start-time": start,
            "connection-last-update-time": self.time(now),
            "client-ip": client_ip,
            "common-name": person.common_name,
            "device-type": person.device,
            "device-ip": device_ip,
            "port": port,
            "ingress-bytes": str(c[0]),
            "egress-bytes": str(c[1]),
            "ingress-packets": str(c[2]),
            "egress-packets": str(c[3]),
            "connection-end-time": end,
        }
        if evaluation is not None:
            record["authorization-policy-evaluation"] = evaluation
        if endpoint.kind != "cert":
            record["username"] = username or person.username
        record["connection-duration-seconds"] = duration
        return record

    def _session_record(self, s: _Session, now: int, reset: bool) -> dict[str, Any]:
        elapsed = max(0, now - s.start)
        c = s.counters
        c[0] = max(c[0], s.bytes_in_per_s * elapsed)
        c[1] = max(c[1], s.bytes_out_per_s * elapsed)
        c[2], c[3] = c[0] // 620, c[1] // 540
        return self._record(
            s.person,
            "connection-reset" if reset else "connection-attempt",
            NA if reset else "successful",
            NA, s.connection_id, s.start_text, now, s.client_ip, s.device_ip, s.port,
            c, self.time(now) if reset else NA, str(elapsed),
        )  # fmt: skip

    def _failure(
        self, person: _Person, now: int, reason: str, device_ip: str,
        username: str | None = None, evaluation: dict[str, Any] | None = None,
    ) -> tuple[str, dict[str, Any]]:  # fmt: skip
        record = self._record(
            person, "connection-attempt", "failed", reason, _connection_id(self.rng), NA, now,
            NA, device_ip, str(self.rng.randint(1024, 65535)), None, NA, NA,
            evaluation=evaluation, username=username,
        )  # fmt: skip
        return person.endpoint.stream, record

    # -- actions ----------------------------------------------------------------------------
    def connect(self, now: int) -> tuple[str, dict[str, Any], Step | None]:
        idle = [p for p in self.people if not p.connected]
        if not idle:
            return self.update(now)
        rng = self.rng
        person = rng.choice(idle)
        endpoint = person.endpoint
        if not endpoint.free_ips:
            return self.update(now)
        person.connected = True
        device_ip = person.home_ip if rng.random() < 0.85 else doc_ip(rng)
        session = _Session(
            person, _connection_id(rng), endpoint.free_ips.pop(rng.randrange(len(
                endpoint.free_ips))), device_ip, str(rng.randint(1024, 65535)), now,
            self.start_time(now), rng.randint(500, 120_000), rng.randint(200, 40_000),
        )  # fmt: skip

        def connected(now: int) -> tuple[str, dict[str, Any], Step | None]:
            session.start, session.start_text = now, self.start_time(now)
            self.sessions.append(session)
            return endpoint.stream, self._session_record(session, now, reset=False), None

        if endpoint.kind == "saml":  # the browser step first, no client IP yet
            record = self._record(
                person, "connection-attempt", "waiting-for-assertion", NA,
                session.connection_id, NA, now, NA, device_ip, session.port, None, NA, NA,
            )  # fmt: skip
            return endpoint.stream, record, connected
        return connected(now)

    def update(self, now: int) -> tuple[str, dict[str, Any], Step | None]:
        if not self.sessions:
            return self.connect(now)
        session = self.rng.choice(self.sessions)
        return session.person.endpoint.stream, self._session_record(session, now, False), None

    def disconnect(self, now: int) -> tuple[str, dict[str, Any], Step | None]:
        if not self.sessions:
            return self.connect(now)
        rng = self.rng
        session = self.sessions.pop(rng.randrange(len(self.sessions)))
        session.person.connected = False
        session.person.endpoint.free_ips.append(session.client_ip)
        return session.person.endpoint.stream, self._session_record(session, now, True), None

    def fail(self, now: int) -> tuple[str, dict[str, Any], Step | None]:
        rng = self.rng
        person = rng.choice(self.people)
        kind = person.endpoint.kind
        evaluation = None
        if kind == "ad":
            reason = AD_FAILURE_REASON
        elif kind == "saml":
            reason = "authorization-policy-deny"
            evaluation = {
                "result": "deny",
                "evaluation-type": "connection-attempt",
                "shadow-mode": "disabled",
                "reason": "policy-deny",
            }
        else:
            reason = self.reasons[bisect(self.reason_weights, rng.random() * 100)]
        stream, record = self._failure(person, now, reason, person.home_ip, None, evaluation)
        return stream, record, None

    def burst(self, now: int) -> tuple[str, dict[str, Any], Step | None]:
        rng = self.rng
        source = rng.choice(self.attackers)
        remaining = rng.randint(5, 25)
        if rng.random() < 0.7:  # a leaked corp profile tried with guessed user names
            person = self.leaked
            names = [rng.choice(_GUESSED_NAMES) for _ in range(remaining)]
            reason = AD_FAILURE_REASON
        else:  # a revoked device retrying against the client-connect handler
            person = rng.choice([p for p in self.people if p.endpoint.kind == "cert"])
            names = [None] * remaining
            reason = "client-connect-failed"

        def attempt(now: int) -> tuple[str, dict[str, Any], Step | None]:
            stream, record = self._failure(person, now, reason, source, names.pop())
            return stream, record, attempt if names else None

        return attempt(now)


def _connection_id(rng: random.Random) -> str:
    return f"cvpn-connection-{hex_id(rng)}"
