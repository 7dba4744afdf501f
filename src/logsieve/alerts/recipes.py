"""Built-in recipes: ready ``[[alerts]]`` tables for common AWS log sources.

A recipe is a function from a few options (log group, channels, users, time zone...) to one
or more rule tables -- plain dicts, exactly what ``logsieve recipes add`` writes into
``logsieve.toml``. The templates are written out in full rather than referenced by name, so
the user owns them: the config shows what a message will say, and editing it is the way to
change it. Every table a recipe produces passes :func:`logsieve.alerts.config.parse_alerts`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "RECIPES",
    "Recipe",
    "RecipeOption",
    "iam_user_activity",
    "rejected_traffic",
    "vpn_connections",
]

Table = dict[str, Any]


def _quote(text: str) -> str:
    """A string literal in a filter pattern (and in TOML-free JSON style)."""
    return json.dumps(text)


def _common(
    name: str, log_groups: Sequence[str], channels: Sequence[str], timezone: str, severity: str
) -> Table:
    if not log_groups:
        raise ValueError("give the log group the records are delivered to (--log-group)")
    if not channels:
        raise ValueError("give at least one channel to send the alerts to (--channel)")
    return {
        "name": name,
        "log_groups": list(log_groups),
        "channels": list(channels),
        "severity": severity,
        "timezone": timezone,
    }


# --- vpn-connections --------------------------------------------------------------------------

_VPN_ATTEMPT = '$.connection-log-type = "connection-attempt"'
_DEVICE = (
    '{{ {"mac": "macOS", "win": "Windows", "linux": "Linux", "ios": "iOS", '
    '"android": "Android"}.get(vpn["device-type"], vpn["device-type"]) }}'
)

VPN_TITLE = 'VPN: {{ vpn.who }} connected from {{ vpn["device-ip"] or "an unknown address" }}'
VPN_BODY = (
    """\
{{ vpn.who }} connected to the Client VPN.

Who:        {% if vpn.username %}{{ vpn.username }}\
{% if vpn["common-name"] %} (certificate {{ vpn["common-name"] }}){% endif %}\
{% else %}{{ vpn["common-name"] or "-" }} (certificate common name){% endif %}

From:       {{ vpn["device-ip"] or "-" }}{% if vpn["device-type"] %} ("""
    + _DEVICE
    + """){% endif %}

VPN IP:     {{ vpn["client-ip"] or "-" }}
Endpoint:   {{ vpn["client-vpn-endpoint-id"] }} \
({{ vpn["transport-protocol"] }}, port {{ vpn.port }})
When:       {{ (vpn["connection-start-time"] or timestamp) | localtime }}
Connection: {{ vpn["connection-id"] }}
"""
)
VPN_FAILED_TITLE = (
    "VPN: {{ count }} failed connection attempts from {{ group }} "
    "within {{ window.seconds | duration }}"
)
VPN_FAILED_BODY = """\
{{ count }} Client VPN connection attempts from {{ group }} failed within \
{{ window.seconds | duration }}, the first at {{ first.timestamp | localtime }}.

{% for e in events %}
  {{ e.timestamp | localtime }}  {{ e.vpn.who or "-" }} on {{ e.vpn["client-vpn-endpoint-id"] }}: \
{{ e.vpn["connection-attempt-failure-reason"] or "no reason given" }}
{% endfor %}
"""


def vpn_connections(
    log_groups: Sequence[str],
    channels: Sequence[str],
    *,
    name: str = "vpn-connections",
    timezone: str = "UTC",
    severity: str = "info",
    dedup_window: str = "1d",
    failed_threshold: int = 5,
    failed_window: str = "10m",
) -> list[Table]:
    """AWS Client VPN connection logs: one message per successful connection (who, from where,
    which endpoint, when), once per ``connection-id`` although AWS logs a connection again on
    every update; plus, unless ``failed_threshold`` is 0, one alert when a device IP fails
    ``failed_threshold`` times within ``failed_window``."""
    connected = _common(name, log_groups, channels, timezone, severity)
    connected.update(
        description="Every successful Client VPN connection, once per connection-id",
        pattern=f'{{ ({_VPN_ATTEMPT}) && ($.connection-attempt-status = "successful") }}',
        title=VPN_TITLE,
        body=VPN_BODY,
        dedup_key='{{ vpn["connection-id"] }}',
        dedup_window=dedup_window,
        tags=['endpoint:{{ vpn["client-vpn-endpoint-id"] }}', "user:{{ vpn.who }}"],
    )
    tables = [connected]
    if failed_threshold:
        if failed_threshold < 1:
            raise ValueError("--failed-threshold must be 0 (off) or a positive number")
        failed = _common(f"{name}-failed", log_groups, channels, timezone, "warning")
        failed.update(
            description=(
                f"{failed_threshold} or more failed Client VPN attempts from one device IP "
                f"within {failed_window}"
            ),
            pattern=f'{{ ({_VPN_ATTEMPT}) && ($.connection-attempt-status = "failed") }}',
            title=VPN_FAILED_TITLE,
            body=VPN_FAILED_BODY,
            threshold={
                "count": failed_threshold,
                "window": failed_window,
                "group_by": '{{ vpn["device-ip"] or "an unknown address" }}',
            },
        )
        tables.append(failed)
    return tables


# --- iam-user-activity ------------------------------------------------------------------------

IAM_TITLE = (
    "{{ trail.who.name or trail.who.display }} "
    "{% if trail.console_login %}signed in to the AWS console"
    "{% else %}called {{ trail.eventName }} ({{ trail.service }}){% endif %}"
    "{% if trail.error %} - failed: {{ trail.errorCode or trail.errorMessage }}{% endif %}"
)
IAM_BODY = """\
{{ trail.who.display }} {% if trail.console_login and trail.error %}tried to sign in to the \
AWS console and failed{% elif trail.console_login %}signed in to the AWS console\
{% else %}called {{ trail.eventName }}{% endif %}.

When:       {{ trail.eventTime | localtime }}
Action:     {{ trail.eventName }} ({{ trail.eventSource }})
Source IP:  {{ trail.sourceIPAddress or "-" }}
User agent: {{ (trail.userAgent or "-") | truncate(200) }}
Region:     {{ trail.awsRegion }}
{% if trail.console_login %}
Result:     {{ (trail.responseElements or {}).get("ConsoleLogin") or "-" }}
MFA used:   {{ (trail.additionalEventData or {}).get("MFAUsed") or "-" }}
{% else %}
Read-only:  {{ "yes" if trail.read_only else "no" }}
{% endif %}
{% if trail.error %}
Error:      {{ trail.errorCode or "" }}{{ ": " if trail.errorCode and trail.errorMessage }}\
{{ trail.errorMessage or "" }}
{% endif %}
Event ID:   {{ trail.eventID }}
"""


def iam_user_activity(
    log_groups: Sequence[str],
    channels: Sequence[str],
    users: Sequence[str] = (),
    *,
    name: str = "iam-user-activity",
    timezone: str = "UTC",
    severity: str = "info",
    write_only: bool = False,
    console_login: bool = True,
    dedup_window: str = "1d",
) -> list[Table]:
    """CloudTrail: a message for every API call by the chosen IAM users (time, action and
    service, source IP, user agent, region, error code if any). ``write_only`` leaves out
    read-only calls; ``console_login`` keeps console sign-ins (successful or failed)."""
    if not users:
        raise ValueError("give at least one IAM user name to watch (--user alice)")
    bad = [user for user in users if not user or '"' in user or "\\" in user]
    if bad:
        raise ValueError(f"not an IAM user name: {bad[0]!r}")
    names = " || ".join(f"($.userIdentity.userName = {_quote(user)})" for user in users)
    conditions = ['($.userIdentity.type = "IAMUser")', f"({names})" if len(users) > 1 else names]
    if write_only:
        conditions.append("($.readOnly IS FALSE)")
    if not console_login:
        conditions.append('($.eventName != "ConsoleLogin")')
    table = _common(name, log_groups, channels, timezone, severity)
    kind = "write call" if write_only else "API call"
    table.update(
        description=(
            f"Every CloudTrail {kind} by {', '.join(users)}"
            + ("" if console_login else ", without console sign-ins")
        ),
        pattern="{ " + " && ".join(conditions) + " }",
        title=IAM_TITLE,
        body=IAM_BODY,
        # One record can reach a group twice (two trails, an organization trail):
        # CloudTrail's own eventID identifies it.
        dedup_key="{{ trail.eventID }}",
        dedup_window=dedup_window,
        tags=["user:{{ trail.who.name }}", "event:{{ trail.eventName }}"],
    )
    return [table]


# --- rejected-traffic -------------------------------------------------------------------------

REJECTED_TITLE = (
    "{% if flow.protocol in (1, 58) %}Rejected {{ flow.protocol | protocol_name }} "
    "from {{ flow.srcaddr }}"
    "{% else %}Rejected the {{ flow.dstport }} port access from {{ flow.srcaddr }}{% endif %}"
)
REJECTED_BODY = """\
{{ flow.srcaddr }} tried to reach {{ flow.dstaddr }} on port {{ flow.dstport }} \
({{ flow.protocol | protocol_name }}) and was rejected.

When:      {{ (flow.start or timestamp) | localtime }}
Source:    {{ flow.srcaddr }} port {{ flow.srcport }}
Target:    {{ flow.dstaddr }} port {{ flow.dstport }} ({{ flow.protocol | protocol_name }})
Traffic:   {{ flow.packets }} {{ "packet" if flow.packets == 1 else "packets" }}, \
{{ flow.bytes | bytes }}
Interface: {{ flow["interface-id"] or log_stream }}\
{% if flow["instance-id"] %} ({{ flow["instance-id"] }}){% endif %}

{% if flow["vpc-id"] %}
VPC:       {{ flow["vpc-id"] }}{% if flow.region %} in {{ flow.region }}{% endif %}

{% endif %}
"""
REJECTED_DIGEST_TITLE = (
    "{{ count }} more rejected port {{ 'access' if count == 1 else 'accesses' }} "
    "from {{ group }} in {{ window.seconds | duration }}"
)
REJECTED_DIGEST_BODY = """\
After the first alert, {{ count }} more rejected port \
{{ "access" if count == 1 else "accesses" }} from {{ group }}, \
from {{ first.timestamp | localtime }} to {{ last.timestamp | localtime }}.

Ports:   {% for port, n in top("dstport", 10) %}{{ port }} ({{ n }}){{ ", " if not loop.last }}\
{% endfor %}

Targets: {% for address, n in top("dstaddr", 5) %}{{ address }} ({{ n }})\
{{ ", " if not loop.last }}{% endfor %}

"""
SCAN_TITLE = (
    "Port scan from {{ group }}: {{ distinct_count }} ports within {{ window.seconds | duration }}"
)
SCAN_BODY = """\
{{ group }} probed {{ distinct_count }} different ports within {{ window.seconds | duration }} \
({{ count }} rejected flows), starting {{ window.start | localtime }}.

Ports:   {{ values | join(", ") }}
Targets: {% for address, n in top("dstaddr", 5) %}{{ address }}{{ ", " if not loop.last }}\
{% endfor %}

"""


def _flow_pattern(flow_format: str | None, ports: Sequence[int]) -> str:
    from logsieve.formats.vpc_flow import DEFAULT, FlowLogFormat

    fmt = FlowLogFormat.from_string(flow_format) if flow_format else DEFAULT
    missing = [
        field for field in ("srcaddr", "dstaddr", "dstport", "action") if field not in fmt.fields
    ]
    if missing:
        raise ValueError(
            f"the flow log format has no {', '.join(missing)} field; rejected-traffic needs "
            "srcaddr, dstaddr, dstport and action"
        )
    positions = []
    for name in fmt.filter_pattern_fields():
        if name == "action":
            positions.append('action = "REJECT"')
        elif name == "dstport" and ports:
            positions.append(" || ".join(f"dstport = {int(port)}" for port in ports))
        else:
            positions.append(name)
    return "[" + ", ".join(positions) + "]"


def rejected_traffic(
    log_groups: Sequence[str],
    channels: Sequence[str],
    *,
    name: str = "rejected-traffic",
    timezone: str = "UTC",
    severity: str = "warning",
    flow_format: str | None = None,
    ports: Sequence[int] = (),
    dedup_window: str = "1h",
    digest_window: str = "1h",
    scan_ports: int = 10,
    scan_window: str = "10m",
) -> list[Table]:
    """VPC Flow Logs (default or custom format): "Rejected the 23 port access from
    110.53.x.x" once per source, port and protocol (``dedup_window``); further rejects from the
    same source within ``digest_window`` come as one follow-up with the top ports and targets;
    and, unless ``scan_ports`` is 0, one port-scan alert when a source hits ``scan_ports``
    distinct ports within ``scan_window``. A scan thus produces a handful of messages, never
    one per port."""
    for port in ports:
        if not 0 <= int(port) <= 65535:
            raise ValueError(f"not a port number: {port}")
    pattern = _flow_pattern(flow_format, ports)
    table = _common(name, log_groups, channels, timezone, severity)
    only = f" to port {', '.join(str(p) for p in ports)}" if ports else ""
    table.update(
        description=f"Rejected VPC traffic{only}, per source and destination port",
        pattern=pattern,
        title=REJECTED_TITLE,
        body=REJECTED_BODY,
        digest_title=REJECTED_DIGEST_TITLE,
        digest_body=REJECTED_DIGEST_BODY,
        dedup_key="{{ flow.srcaddr }} {{ flow.dstport }} {{ flow.protocol }}",
        dedup_window=dedup_window,
        digest_window=digest_window,
        digest_group_by="{{ flow.srcaddr }}",
        top_keys=["dstport", "dstaddr"],
        tags=["srcaddr:{{ flow.srcaddr }}", "dstport:{{ flow.dstport }}"],
    )
    if flow_format:
        table["flow_format"] = flow_format
    tables = [table]
    if scan_ports:
        if scan_ports < 2:
            raise ValueError("--scan-ports must be 0 (off) or at least 2")
        scan = _common(f"{name}-scan", log_groups, channels, timezone, "error")
        scan.update(
            description=f"One source rejected on {scan_ports} or more ports within {scan_window}",
            pattern=pattern,
            title=SCAN_TITLE,
            body=SCAN_BODY,
            distinct={
                "key": "dstport",
                "count": scan_ports,
                "window": scan_window,
                "group_by": "{{ flow.srcaddr }}",
            },
            tags=["srcaddr:{{ flow.srcaddr }}"],
        )
        if flow_format:
            scan["flow_format"] = flow_format
        tables.append(scan)
    return tables


# --- the registry -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RecipeOption:
    """One option of a recipe: the keyword argument, and ``--flag`` on the command line."""

    name: str  # keyword argument of the recipe function
    help: str
    default: Any = None
    kind: str = "str"  # str | int | duration | list | ints | flag
    cli: str | None = None  # the flag when it is not the name (--user for users)

    @property
    def flag(self) -> str:
        return self.cli or "--" + self.name.replace("_", "-")

    @property
    def metavar(self) -> str:
        """How ``logsieve recipes list`` shows the value."""
        if self.kind == "duration":
            return "DURATION"
        if self.kind == "int":
            return "N"
        if self.kind in ("list", "ints"):
            return self.flag[2:].upper()
        return {"timezone": "ZONE", "flow_format": "FORMAT"}.get(self.name, self.name.upper())


@dataclass(frozen=True)
class Recipe:
    name: str
    summary: str  # one line for `logsieve recipes list`
    build: Callable[..., list[Table]]
    options: tuple[RecipeOption, ...]
    example: str


_COMMON_OPTIONS = (RecipeOption("timezone", "IANA time zone for times in messages", "UTC"),)
RECIPES: dict[str, Recipe] = {
    recipe.name: recipe
    for recipe in (
        Recipe(
            "vpn-connections",
            "Client VPN: a message per successful connection (who, from, endpoint, when), "
            "deduplicated per connection-id; alert on bursts of failed attempts",
            vpn_connections,
            (
                *_COMMON_OPTIONS,
                RecipeOption("severity", "severity of the connection messages", "info"),
                RecipeOption("dedup_window", "send each connection-id once per", "1d", "duration"),
                RecipeOption(
                    "failed_threshold",
                    "alert when a device IP fails this many times (0: off)",
                    5,
                    "int",
                ),
                RecipeOption("failed_window", "... within this long", "10m", "duration"),
            ),
            "logsieve recipes add vpn-connections --log-group /aws/clientvpn "
            "--channel slack --timezone Asia/Tokyo",
        ),
        Recipe(
            "iam-user-activity",
            "CloudTrail: every API call by chosen IAM users (time, action, service, source "
            "IP, user agent, region, error code)",
            iam_user_activity,
            (
                RecipeOption(
                    "users", "IAM user name to watch (repeat for several)", (), "list", "--user"
                ),
                *_COMMON_OPTIONS,
                RecipeOption("severity", "severity of the messages", "info"),
                RecipeOption("write_only", "leave out read-only calls", False, "flag"),
                RecipeOption("console_login", "include console sign-ins", True, "flag"),
            ),
            "logsieve recipes add iam-user-activity --log-group aws-cloudtrail-logs "
            "--channel email --user alice --user ops-admin --write-only",
        ),
        Recipe(
            "rejected-traffic",
            'VPC Flow Logs: "Rejected the 23 port access from 110.53.x.x" per source and '
            "port, one digest per source, one alert per port scan",
            rejected_traffic,
            (
                *_COMMON_OPTIONS,
                RecipeOption("severity", "severity of the per-port messages", "warning"),
                RecipeOption(
                    "flow_format",
                    "the flow log's custom format (${field} ...), or @FILE; default format "
                    "when not given",
                ),
                RecipeOption(
                    "ports", "only this destination port (repeat for several)", (), "ints", "--port"
                ),
                RecipeOption("dedup_window", "one message per source+port per", "1h", "duration"),
                RecipeOption(
                    "digest_window", "summarise a source's further rejects over", "1h", "duration"
                ),
                RecipeOption(
                    "scan_ports", "port-scan alert at this many distinct ports (0: off)", 10, "int"
                ),
                RecipeOption("scan_window", "... within this long", "10m", "duration"),
            ),
            "logsieve recipes add rejected-traffic --log-group vpc-flow-logs "
            "--channel datadog --port 22 --port 23",
        ),
    )
}
