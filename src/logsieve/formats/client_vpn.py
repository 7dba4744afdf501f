"""AWS Client VPN connection-log records (aws-compat.md section 7.2).

Each log event is one compact JSON object whose values are all strings (numbers too); the
string ``"NA"`` means "not applicable" and is exposed as ``None`` by :class:`ConnectionRecord`.
The one exception is ``authorization-policy-evaluation``, a nested object.

Pure module: no I/O and no imports from other logsieve packages.
"""

from __future__ import annotations

import json
import re
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

__all__ = [
    "FAILURE_REASONS",
    "FIELDS",
    "LOG_TYPES",
    "NA",
    "OPTIONAL_FIELDS",
    "REQUIRED_FIELDS",
    "STATUSES",
    "ConnectionRecord",
    "log_stream_name",
    "parse",
    "to_message",
]

NA = "NA"

#: Every key of a connection-log record, in the order AWS writes them (the samples and the AWS
#: guide's examples). ``client-ip-v6``, ``posture-compliance-statuses``,
#: ``authorization-policy-evaluation``, ``username`` and ``connection-duration-seconds`` are
#: optional; the position of ``client-ip-v6`` and ``posture-compliance-statuses`` follows the
#: AWS field table (not observed in our samples).
FIELDS: tuple[str, ...] = (
    "connection-log-type",
    "connection-attempt-status",
    "connection-reset-status",
    "connection-attempt-failure-reason",
    "connection-id",
    "client-vpn-endpoint-id",
    "transport-protocol",
    "connection-start-time",
    "connection-last-update-time",
    "client-ip",
    "client-ip-v6",
    "common-name",
    "device-type",
    "device-ip",
    "port",
    "ingress-bytes",
    "egress-bytes",
    "ingress-packets",
    "egress-packets",
    "connection-end-time",
    "posture-compliance-statuses",
    "authorization-policy-evaluation",
    "username",
    "connection-duration-seconds",
)

#: Keys that may be missing: newer/feature-specific ones, ``username`` (certificate-only
#: endpoints) and ``connection-duration-seconds`` (absent from the AWS guide's oldest example).
OPTIONAL_FIELDS: frozenset[str] = frozenset(
    {
        "client-ip-v6",
        "posture-compliance-statuses",
        "authorization-policy-evaluation",
        "username",
        "connection-duration-seconds",
    }
)
REQUIRED_FIELDS: tuple[str, ...] = tuple(f for f in FIELDS if f not in OPTIONAL_FIELDS)

LOG_TYPES = ("connection-attempt", "connection-reset")
STATUSES = ("successful", "failed", "waiting-for-assertion", NA)
#: Documented failure reasons; other free-text reasons can occur for user-auth failures.
FAILURE_REASONS = (
    "client-connect-failed",
    "client-connect-handler-timed-out",
    "client-connect-handler-other-execution-error",
    "client-connect-handler-throttled",
    "client-connect-handler-invalid-response",
    "client-connect-handler-service-error",
    "authorization-policy-deny",
)

_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # UTC, space separator, no zone
_INT_FIELDS = (
    "port",
    "ingress-bytes",
    "egress-bytes",
    "ingress-packets",
    "egress-packets",
    "connection-duration-seconds",
)
_TIME_FIELDS = ("connection-start-time", "connection-last-update-time", "connection-end-time")
_ORDER = {name: i for i, name in enumerate(FIELDS)}


def _na(value: Any) -> Any:
    return None if value == NA else value


def _int(value: str | None, key: str) -> int | None:
    if value is None or value == NA:
        return None
    if not isinstance(value, str) or not value.isascii() or not value.isdigit():
        raise ValueError(f"{key}: expected a decimal string or NA, got {value!r}")
    return int(value)


def _time(value: str | None, key: str) -> datetime | None:
    if value is None or value == NA:
        return None
    try:
        return datetime.strptime(value, _TIME_FORMAT).replace(tzinfo=UTC)
    except (TypeError, ValueError):
        raise ValueError(f"{key}: expected 'YYYY-MM-DD HH:MM:SS' or NA, got {value!r}") from None


@dataclass(frozen=True, slots=True)
class ConnectionRecord:
    """Typed, read-only view of one connection-log record.

    ``fields`` holds the record exactly as decoded (string values, ``"NA"`` kept, unknown keys
    kept); the properties convert: ``"NA"`` -> ``None``, counters/port -> ``int``, times ->
    aware UTC ``datetime``.
    """

    fields: Mapping[str, Any]

    def get(self, key: str) -> Any:
        """Raw value of ``key`` with ``"NA"`` (and a missing key) mapped to ``None``."""
        return _na(self.fields.get(key))

    # -- kind -------------------------------------------------------------------------------
    @property
    def log_type(self) -> str:
        """``connection-attempt`` or ``connection-reset``."""
        return self.fields["connection-log-type"]

    @property
    def is_attempt(self) -> bool:
        return self.log_type == "connection-attempt"

    @property
    def is_reset(self) -> bool:
        return self.log_type == "connection-reset"

    @property
    def status(self) -> str | None:
        """``successful``, ``failed``, ``waiting-for-assertion``; ``None`` for ``NA`` (resets)."""
        return self.get("connection-attempt-status")

    @property
    def reset_status(self) -> str | None:
        return self.get("connection-reset-status")

    @property
    def failure_reason(self) -> str | None:
        return self.get("connection-attempt-failure-reason")

    @property
    def authorization_policy_evaluation(self) -> Mapping[str, Any] | None:
        value = self.fields.get("authorization-policy-evaluation")
        return value if isinstance(value, Mapping) else None

    @property
    def posture_compliance_statuses(self) -> Any:
        """Raw value (serialized form undocumented), ``None`` if absent or ``NA``."""
        return self.get("posture-compliance-statuses")

    # -- who / where ------------------------------------------------------------------------
    @property
    def connection_id(self) -> str:
        return self.fields["connection-id"]

    @property
    def endpoint_id(self) -> str:
        return self.fields["client-vpn-endpoint-id"]

    @property
    def transport_protocol(self) -> str | None:
        return self.get("transport-protocol")

    @property
    def username(self) -> str | None:
        """Present only with user-based (AD/SAML) authentication; ``None`` otherwise."""
        return self.get("username")

    @property
    def common_name(self) -> str | None:
        return self.get("common-name")

    @property
    def device_type(self) -> str | None:
        return self.get("device-type")

    @property
    def client_ip(self) -> str | None:
        """Address assigned from the endpoint's client CIDR (``None`` before/without one)."""
        return self.get("client-ip")

    @property
    def client_ip_v6(self) -> str | None:
        return self.get("client-ip-v6")

    @property
    def device_ip(self) -> str | None:
        """Public address of the device."""
        return self.get("device-ip")

    @property
    def port(self) -> int | None:
        return _int(self.fields.get("port"), "port")

    # -- counters ---------------------------------------------------------------------------
    @property
    def ingress_bytes(self) -> int | None:
        return _int(self.fields.get("ingress-bytes"), "ingress-bytes")

    @property
    def egress_bytes(self) -> int | None:
        return _int(self.fields.get("egress-bytes"), "egress-bytes")

    @property
    def ingress_packets(self) -> int | None:
        return _int(self.fields.get("ingress-packets"), "ingress-packets")

    @property
    def egress_packets(self) -> int | None:
        return _int(self.fields.get("egress-packets"), "egress-packets")

    # -- times ------------------------------------------------------------------------------
    @property
    def start_time(self) -> datetime | None:
        return _time(self.fields.get("connection-start-time"), "connection-start-time")

    @property
    def last_update_time(self) -> datetime | None:
        return _time(self.fields.get("connection-last-update-time"), "connection-last-update-time")

    @property
    def end_time(self) -> datetime | None:
        return _time(self.fields.get("connection-end-time"), "connection-end-time")

    @property
    def duration_seconds(self) -> int | None:
        """``0`` on connect records, ``None`` on failures / when the key is absent."""
        return _int(self.fields.get("connection-duration-seconds"), "connection-duration-seconds")

    def to_message(self) -> str:
        return to_message(self)


def parse(message: str) -> ConnectionRecord:
    """Decode one log-event message.

    Raises ``ValueError`` for non-JSON, a non-object, a missing required key, or a value that
    is not in the documented form (non-string scalar, bad number or time).
    """
    try:
        obj = json.loads(message)
    except (TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not a JSON object: {exc}") from None
    if not isinstance(obj, dict):
        raise ValueError("not a JSON object")
    missing = [key for key in REQUIRED_FIELDS if key not in obj]
    if missing:
        raise ValueError(f"not a Client VPN connection record: missing {', '.join(missing)}")
    for key, value in obj.items():
        if key in ("authorization-policy-evaluation", "posture-compliance-statuses"):
            continue
        if key in _ORDER and not isinstance(value, str):
            raise ValueError(f"{key}: expected a string, got {value!r}")
    for key in _INT_FIELDS:
        _int(obj.get(key), key)
    for key in _TIME_FIELDS:
        _time(obj.get(key), key)
    return ConnectionRecord(obj)


def to_message(record: ConnectionRecord | Mapping[str, Any]) -> str:
    """Compact JSON with AWS's key order (unknown keys follow, in their original order).

    ``to_message(parse(line)) == line`` for every record AWS writes.
    """
    fields = record.fields if isinstance(record, ConnectionRecord) else record
    keys = sorted(fields, key=lambda k: _ORDER.get(k, len(_ORDER)))  # stable for unknown keys
    ordered = {key: fields[key] for key in keys}
    return json.dumps(ordered, separators=(",", ":"), ensure_ascii=False)


_SUFFIX_ALPHABET = string.ascii_letters + string.digits
_SUFFIX_RE = re.compile(r"[A-Za-z0-9]{12}")


def log_stream_name(
    endpoint_id: str, region: str, day: date | datetime, suffix: str | None = None
) -> str:
    """Stream Client VPN creates when the endpoint's ``ConnectionLogOptions`` name none.

    Layout per aws-compat.md 7.2 [observed]:
    ``<endpoint-id>-<region>-<yyyy/mm/dd>-<12 random alphanumerics>``, e.g.
    ``cvpn-endpoint-123456789123abcde-ap-south-1-2020/11/13-FCD8HEMVaCcw``.
    ``day`` may be a date or a datetime (aware datetimes are converted to UTC first).
    ``suffix`` defaults to 12 fresh random alphanumerics.
    """
    if not endpoint_id.startswith("cvpn-endpoint-"):
        raise ValueError(f"not a Client VPN endpoint id: {endpoint_id!r}")
    if not region:
        raise ValueError("region is required")
    if isinstance(day, datetime) and day.tzinfo is not None:
        day = day.astimezone(UTC)
    if suffix is None:
        suffix = "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(12))
    elif not _SUFFIX_RE.fullmatch(suffix):
        raise ValueError(f"suffix must be 12 ASCII letters/digits, got {suffix!r}")
    return f"{endpoint_id}-{region}-{day:%Y/%m/%d}-{suffix}"
