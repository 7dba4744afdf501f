"""Filter-pattern matching throughput: logsieve vs moto vs the floor of unavoidable work.

Run from the repository root:

    .venv/bin/python bench/patterns.py [--events N] [--repeat R]

Every dataset is built from the files in samples/ plus generated variants (fixed seed), so two
runs on the same machine measure the same events. See bench/README.md for the columns and the
targets.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import random
import re
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from moto.logs.utils import EventMessageFilter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))  # works without an editable install too

from common import (  # noqa: E402
    DOC_NETS,
    cpu_model,
    git_commit,
    package_versions,
    progress,
    vary_ip,
)
from logsieve.patterns import Event  # noqa: E402
from logsieve.patterns import compile as compile_pattern  # noqa: E402

SAMPLES = ROOT / "samples"
SEED = 7


# --- datasets ------------------------------------------------------------------------------
def _public_ip(rng: random.Random) -> str:
    return rng.choice(DOC_NETS) + str(rng.randint(1, 254))


def flow_logs(rng: random.Random, n: int) -> list[str]:
    """VPC flow records (default format): the sample, then variants with ~15% REJECT."""
    sample = SAMPLES.joinpath("vpc-flow-default.log").read_text().splitlines()
    templates = [line.split() for line in sample]
    accept = [t for t in templates if t[12] == "ACCEPT"]
    reject = [t for t in templates if t[12] == "REJECT"]
    nodata = [t for t in templates if t[12] == "-"]
    out = sample[:n]
    clock = int(templates[-1][10])
    while len(out) < n:
        r = rng.random()
        t = rng.choice(nodata if r < 0.02 else reject if r < 0.16 else accept)
        f = list(t)
        clock += rng.randint(0, 2)
        f[10] = str(clock)
        f[11] = str(clock + rng.randint(1, 60))
        if f[12] != "-":
            f[3] = vary_ip(rng, f[3])
            f[4] = vary_ip(rng, f[4])
            for i in (5, 6):  # ephemeral ports change, service ports stay
                if int(f[i]) > 10000:
                    f[i] = str(rng.randint(32768, 65535))
            packets = int(f[8])
            if f[12] == "ACCEPT" and f[7] == "6":
                packets = max(1, round(packets * rng.lognormvariate(0, 0.9)))
                f[9] = str(max(packets * 40, round(int(f[9]) * rng.lognormvariate(0, 1.0))))
            else:
                f[9] = str(packets * rng.choice((40, 44, 60, 76, 84)))
            f[8] = str(packets)
        out.append(" ".join(f))
    return out


_THREADS = [f"http-nio-8080-exec-{i}" for i in range(1, 13)] + [
    "main",
    "scheduler-1",
    "kafka-consumer-0",
    "kafka-consumer-1",
]
_USERS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"]
# (level, logger, message template); weights below give ~5% ERROR/WARN and a few FATAL.
_APP_LINES: dict[str, list[tuple[str, str]]] = {
    "DEBUG": [
        ("com.example.OrderRepository", "SQL select from orders where id={order} took {ms} ms"),
        ("com.zaxxer.hikari.pool.HikariPool", "Pool stats (total=50, active={n}, idle={m})"),
        ("com.example.CacheManager", "Cache lookup orders:{order} hit={flag}"),
    ],
    "INFO": [
        ("com.example.OrderService", "Order {order} processed in {ms} ms"),
        ("com.example.web.AccessLog", "GET /api/orders/{order} 200 {ms}ms"),
        ("com.example.PaymentService", "Payment authorized for order {order} amount={amount} EUR"),
        ("com.example.AuthService", "User {user} logged in from {ip}"),
        ("com.example.SessionJanitor", "Removed {n} expired sessions"),
        ("com.example.InventoryClient", "Reserved {n} items for order {order}"),
    ],
    "WARN": [
        ("com.example.OrderRepository", "Slow query on orders: {ms} ms (threshold 500 ms)"),
        ("com.example.InventoryClient", "Retrying inventory-service call (attempt {n} of 3)"),
        ("com.zaxxer.hikari.pool.HikariPool", "Connection pool near capacity: active={n}/50"),
    ],
    "ERROR": [
        (
            "com.example.OrderService",
            "Failed to process order {order}: java.net.SocketTimeoutException: Read timed out",
        ),
        ("com.example.PaymentService", "Payment declined for order {order}: card_expired"),
        (
            "com.example.web.ExceptionHandler",
            "Unhandled exception in GET /api/orders/{order}: java.lang.NullPointerException",
        ),
    ],
    "FATAL": [
        ("com.example.Application", "Unable to allocate {n} MB for the order cache, exiting"),
    ],
}
_LEVEL_WEIGHTS = {"DEBUG": 17.0, "INFO": 78.0, "WARN": 3.0, "ERROR": 1.8, "FATAL": 0.2}


def app_logs(rng: random.Random, n: int) -> list[str]:
    """Java-style application log lines; the level word appears nowhere else in a line."""
    levels = list(_LEVEL_WEIGHTS)
    weights = list(_LEVEL_WEIGHTS.values())
    clock = dt.datetime(2025, 3, 10, 8, 0, 0)
    out = []
    for _ in range(n):
        clock += dt.timedelta(milliseconds=rng.randint(0, 400))
        level = rng.choices(levels, weights)[0]
        logger, template = rng.choice(_APP_LINES[level])
        message = template.format(
            order=rng.randint(1000, 99999),
            ms=int(rng.lognormvariate(3.5, 1.0)),
            n=rng.randint(1, 50),
            m=rng.randint(0, 50),
            flag=rng.choice(("true", "false")),
            amount=f"{rng.uniform(5, 900):.2f}",
            user=rng.choice(_USERS),
            ip=_public_ip(rng),
        )
        stamp = clock.strftime("%Y-%m-%d %H:%M:%S") + f",{clock.microsecond // 1000:03d}"
        out.append(f"{stamp} {level} [{rng.choice(_THREADS)}] {logger} - {message}")
    return out


def _dumps(doc: dict) -> str:
    return json.dumps(doc, separators=(",", ":"))


def _read_jsonl(name: str) -> tuple[list[str], list[dict]]:
    lines = SAMPLES.joinpath(name).read_text().splitlines()
    return lines, [json.loads(line) for line in lines]


_STATUS = "connection-attempt-status"
_DEVICES = {"android": "phone", "ios": "phone", "mac": "laptop", "win": "laptop", "linux": "laptop"}
_VPN_USERS = [*_USERS, "ops-admin", "mallory", "oscar", "peggy", "trent", "victor", "walter"]


def client_vpn(rng: random.Random, n: int, weights: dict[str, float]) -> list[str]:
    """Client VPN connection-log records; ``weights`` sets the attempt-status mix."""
    lines, records = _read_jsonl("client-vpn-connections.jsonl")
    by_status: dict[str, list[str]] = {}
    for line, rec in zip(lines, records, strict=True):
        by_status.setdefault(rec[_STATUS], []).append(line)
    keep = [line for line, rec in zip(lines, records, strict=True) if weights.get(rec[_STATUS])]
    out = keep[:n]
    statuses = list(weights)
    clock = dt.datetime(2025, 3, 10, 18, 0, 0)
    while len(out) < n:
        status = rng.choices(statuses, list(weights.values()))[0]
        rec = json.loads(rng.choice(by_status[status]))
        clock += dt.timedelta(seconds=rng.randint(0, 3))
        user = rng.choice(_VPN_USERS)
        device = rng.choice(list(_DEVICES))
        rec["connection-id"] = f"cvpn-connection-{rng.getrandbits(68):017x}"[:33]
        rec["transport-protocol"] = rng.choice(("udp", "udp", "tcp"))
        rec["common-name"] = f"{user}.{_DEVICES[device]}.corp.example"
        rec["device-type"] = device
        rec["device-ip"] = _public_ip(rng)
        rec["port"] = str(rng.randint(1024, 65535))
        if "username" in rec:
            rec["username"] = user
        if rec["client-ip"] != "NA":
            rec["client-ip"] = f"172.16.{rng.randint(0, 3)}.{rng.randint(2, 254)}"
        now = clock.strftime("%Y-%m-%d %H:%M:%S")
        rec["connection-last-update-time"] = now
        if rec["connection-log-type"] == "connection-reset":
            seconds = rng.randint(30, 8 * 3600)
            start = clock - dt.timedelta(seconds=seconds)
            rec["connection-start-time"] = start.strftime("%Y-%m-%d %H:%M:%S")
            rec["connection-end-time"] = now
            rec["connection-duration-seconds"] = str(seconds)
            for direction in ("ingress", "egress"):
                packets = rng.randint(10, 20 * seconds)
                rec[f"{direction}-packets"] = str(packets)
                rec[f"{direction}-bytes"] = str(packets * rng.randint(60, 1200))
        elif rec["connection-start-time"] != "NA":
            rec["connection-start-time"] = now
        out.append(_dumps(rec))
    return out


_ERRORS = [
    ("AccessDenied", "User is not authorized to perform this operation", 3),
    ("Client.UnauthorizedOperation", "You are not authorized to perform this operation.", 2),
    ("AccessDeniedException", "User is not authorized to perform: lambda:GetFunction", 1),
    ("ThrottlingException", "Rate exceeded", 2),
    ("ValidationError", "No updates are to be performed.", 1),
    ("NoSuchEntityException", "The user with name x cannot be found.", 1),
    ("TrailNotFoundException", "Unknown trail for this account.", 1),
]
# alice twice: about 1 IAM-user event in 5 is hers.
_CT_USERS = [
    *("alice", "alice", "ops-admin", "bob", "carol"),
    *("dave", "erin", "frank", "grace", "heidi"),
]


def cloudtrail(rng: random.Random, n: int) -> list[str]:
    """CloudTrail records: IAM users (alice ~20% of them), API calls, ~5% errors, logins."""
    lines, records = _read_jsonl("cloudtrail-events.jsonl")
    calls = sorted(
        {
            (r["eventSource"], r["eventName"], r["readOnly"])
            for r in records
            if r["eventType"] == "AwsApiCall"
        }
    )
    out = lines[:n]
    clock = dt.datetime(2025, 3, 10, 18, 0, 0)
    while len(out) < n:
        rec = json.loads(rng.choice(lines))
        clock += dt.timedelta(milliseconds=rng.randint(0, 2000))
        rec["eventTime"] = clock.strftime("%Y-%m-%dT%H:%M:%SZ")
        rec["eventID"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        if "requestID" in rec:
            rec["requestID"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        if rec["sourceIPAddress"][0].isdigit():
            rec["sourceIPAddress"] = _public_ip(rng)
        ui = rec["userIdentity"]
        if ui["type"] == "IAMUser" and ui.get("userName") != "HIDDEN_DUE_TO_SECURITY_REASONS":
            user = rng.choice(_CT_USERS)
            ui["userName"] = user
            if "arn" in ui:
                ui["arn"] = f"arn:aws:iam::123456789012:user/{user}"
        rec.pop("errorCode", None)
        rec.pop("errorMessage", None)
        if rec["eventType"] == "AwsConsoleSignIn":
            failed = rng.random() < 0.1
            rec["responseElements"] = {"ConsoleLogin": "Failure" if failed else "Success"}
            if failed:
                rec["errorMessage"] = "Failed authentication"
        else:
            if rng.random() < 0.5:
                rec["eventSource"], rec["eventName"], rec["readOnly"] = rng.choice(calls)
            if rng.random() < 0.05:
                code, message, _ = rng.choices(_ERRORS, [w for *_, w in _ERRORS])[0]
                rec["errorCode"] = code
                rec["errorMessage"] = message
        out.append(_dumps(rec))
    return out


# --- independent checks (plain Python, no logsieve code) -----------------------------------


def _level(line: str) -> str:
    return line.split(" ", 3)[2]


def _json_field(*path: str) -> Callable[[dict], object]:
    def get(doc: dict) -> object:
        value: object = doc
        for key in path:
            if not isinstance(value, dict) or key not in value:
                return _ABSENT
            value = value[key]
        return value

    return get


_ABSENT = object()
_user_name = _json_field("userIdentity", "userName")
_user_type = _json_field("userIdentity", "type")
_invoked_by = _json_field("userIdentity", "invokedBy")
_console_login = _json_field("responseElements", "ConsoleLogin")


def _json_check(test: Callable[[dict], bool]) -> Callable[[str], bool]:
    def check(line: str) -> bool:
        doc = json.loads(line)
        return isinstance(doc, dict) and test(doc)

    return check


def _flow_check(test: Callable[[list[str]], bool]) -> Callable[[str], bool]:
    def check(line: str) -> bool:
        fields = line.split(" ")
        return len(fields) == 14 and test(fields)

    return check


def _int_field(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _bytes_over(limit: int) -> Callable[[list[str]], bool]:
    def test(f: list[str]) -> bool:
        b = _int_field(f[9])
        return b is not None and b > limit

    return test


def _error_code_check(doc: dict) -> bool:
    code = doc.get("errorCode")
    return isinstance(code, str) and (
        code.endswith("UnauthorizedOperation") or code.startswith("AccessDenied")
    )


_IP_250 = re.compile(r"(?a)\d{1,3}\.\d{1,3}\.\d{1,3}\.250")

CHECKS: dict[str, Callable[[str], bool]] = {
    "ERROR": lambda line: _level(line) == "ERROR",
    "?ERROR ?WARN": lambda line: _level(line) in ("ERROR", "WARN"),
    "%ERROR|FATAL%": lambda line: _level(line) in ("ERROR", "FATAL"),
    "vpn-successful": _json_check(lambda d: d.get(_STATUS) == "successful"),
    "alice-write": _json_check(lambda d: _user_name(d) == "alice" and d.get("readOnly") is False),
    "login-failure": _json_check(
        lambda d: d.get("eventName") == "ConsoleLogin" and _console_login(d) == "Failure"
    ),
    "unauthorized": _json_check(_error_code_check),
    "root-usage": _json_check(
        lambda d: (
            _user_type(d) == "Root"
            and _invoked_by(d) is _ABSENT
            and d.get("eventType") != "AwsServiceEvent"
        )
    ),
    "reject": _flow_check(lambda f: f[12] == "REJECT"),
    "admin-ports": _flow_check(lambda f: f[6] in ("22", "3389") and _bytes_over(1000)(f)),
    "bytes>5000": _flow_check(_bytes_over(5000)),
    "ip.250": lambda line: _IP_250.search(line) is not None,
}

# --- the benchmark rows --------------------------------------------------------------------

FLOW_FIELDS = "version, account_id, interface_id, srcaddr, dstaddr, srcport"
FLOW_TAIL = "start, end, action, log_status"
PATTERNS = {
    "ERROR": "ERROR",
    "?ERROR ?WARN": "?ERROR ?WARN",
    "%ERROR|FATAL%": "%ERROR|FATAL%",
    "vpn-successful": '{ $.connection-attempt-status = "successful" }',
    "alice-write": '{ ($.userIdentity.userName = "alice") && ($.readOnly IS FALSE) }',
    "login-failure": (
        '{ ($.eventName = "ConsoleLogin") && ($.responseElements.ConsoleLogin = "Failure") }'
    ),
    "unauthorized": (
        '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }'
    ),
    "root-usage": (
        '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS '
        '&& $.eventType != "AwsServiceEvent" }'
    ),
    "reject": (
        f"[{FLOW_FIELDS}, dstport, protocol, packets, bytes, start, end, action = REJECT,"
        " log_status]"
    ),
    "admin-ports": (
        f"[{FLOW_FIELDS}, dstport = 22 || dstport = 3389, protocol, packets, bytes > 1000,"
        f" {FLOW_TAIL}]"
    ),
    "bytes>5000": f"[{FLOW_FIELDS}, dstport, protocol, packets, bytes > 5000, {FLOW_TAIL}]",
    "ip.250": r"%\d{1,3}\.\d{1,3}\.\d{1,3}\.250%",
}
SHARED = ["alice-write", "login-failure", "unauthorized", "root-usage"]

JSON_FLOOR = ("orjson.loads", orjson.loads)
SPLIT_FLOOR = ("str.split()", str.split)
LOOP_FLOOR = ("loop only", lambda m: True)


@dataclass
class Row:
    kind: str
    label: str  # the pattern text shown, or a description for the shared rows
    dataset: str
    keys: list[str]  # PATTERNS / CHECKS keys evaluated per event
    floor: tuple[str, Callable[[str], object]]
    shared: bool | None = None  # None: single pattern; True: match_event; False: matches x4
    reference: tuple[str, Callable[[str], object]] | None = None  # shown below the table
    target: str | None = None  # a key of TARGETS
    results: dict[str, object] = field(default_factory=dict)


def rows() -> list[Row]:
    shared_label = "4 CloudTrail JSON patterns"
    return [
        Row(
            "text",
            "ERROR",
            "app",
            ["ERROR"],
            ("'ERROR' in m", lambda m: "ERROR" in m),
            target="moto",
        ),
        Row(
            "text",
            "?ERROR ?WARN",
            "app",
            ["?ERROR ?WARN"],
            ("'ERROR' in m or 'WARN' in m", lambda m: "ERROR" in m or "WARN" in m),
            target="moto",
        ),
        Row(
            "json",
            PATTERNS["vpn-successful"],
            "vpn-mixed",
            ["vpn-successful"],
            JSON_FLOOR,
            target="precheck",
        ),
        Row(
            "json",
            PATTERNS["vpn-successful"],
            "vpn-successful",
            ["vpn-successful"],
            JSON_FLOOR,
            target="parse",
        ),
        Row(
            "json",
            PATTERNS["alice-write"],
            "cloudtrail",
            ["alice-write"],
            JSON_FLOOR,
            target="precheck",
        ),
        *(
            Row("space", PATTERNS[key], "flow", [key], SPLIT_FLOOR, target="space")
            for key in ("reject", "admin-ports", "bytes>5000")
        ),
        Row(
            "regex",
            PATTERNS["ip.250"],
            "flow",
            ["ip.250"],
            LOOP_FLOOR,
            reference=("stdlib re.search", _IP_250.search),
        ),
        Row(
            "regex",
            "%ERROR|FATAL%",
            "app",
            ["%ERROR|FATAL%"],
            LOOP_FLOOR,
            reference=("stdlib re.search", re.compile("ERROR|FATAL").search),
        ),
        Row("json", f"{shared_label}, match_event", "cloudtrail", SHARED, JSON_FLOOR, True),
        Row("json", f"{shared_label}, matches x4", "cloudtrail", SHARED, JSON_FLOOR, False),
    ]


# --- timing --------------------------------------------------------------------------------


def count(f: Callable[[str], object], msgs: Sequence[str]) -> int:
    """The loop every contender runs: one call per event, count the truthy results."""
    n = 0
    for m in msgs:
        if f(m):
            n += 1
    return n


CHUNKS = 10


def best_rates(
    contenders: dict[str, Callable[[str], object]], msgs: Sequence[str], repeat: int
) -> dict[str, tuple[float, int]]:
    """Events per second and match count of every contender, best of ``repeat`` runs.

    Shared machines are noisy (bursts of +-30% lasting a fraction of a second), so each run
    goes over the events in ``CHUNKS`` slices with the contenders taking turns on every slice,
    and the best time is kept slice by slice: a burst then spoils one slice of one contender's
    run instead of deciding a whole row. The GC is paused while timing, as timeit does.
    """
    size = -(-len(msgs) // CHUNKS)
    chunks = [msgs[i : i + size] for i in range(0, len(msgs), size)]
    best = {name: [float("inf")] * len(chunks) for name in contenders}
    matched = dict.fromkeys(contenders, 0)
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            for k, chunk in enumerate(chunks):
                for name, f in contenders.items():
                    start = time.perf_counter()
                    found = count(f, chunk)
                    elapsed = time.perf_counter() - start
                    if elapsed < best[name][k]:
                        best[name][k] = elapsed
                    if k == 0:
                        matched[name] = 0
                    matched[name] += found
    finally:
        if enabled:
            gc.enable()
    return {name: (len(msgs) / sum(best[name]), matched[name]) for name in contenders}


def ours(row: Row) -> Callable[[str], int]:
    fps = [compile_pattern(PATTERNS[k]) for k in row.keys]
    if row.shared is None:
        return fps[0].matches
    if row.shared:
        a, b, c, d = (fp.match_event for fp in fps)

        def shared(m: str) -> int:
            e = Event(m)
            return a(e) + b(e) + c(e) + d(e)

        return shared
    a, b, c, d = (fp.matches for fp in fps)
    return lambda m: a(m) + b(m) + c(m) + d(m)


def moto_per_event(row: Row) -> Callable[[str], int]:
    """moto's filter_log_events: a new EventMessageFilter for every event."""
    texts = [PATTERNS[k] for k in row.keys]
    if len(texts) == 1:
        (p,) = texts
        return lambda m: EventMessageFilter(p).matches(m)
    p, q, r, s = texts
    return lambda m: (
        EventMessageFilter(p).matches(m)
        + EventMessageFilter(q).matches(m)
        + EventMessageFilter(r).matches(m)
        + EventMessageFilter(s).matches(m)
    )


def moto_prebuilt(row: Row) -> Callable[[str], int]:
    """moto's start_live_tail: one EventMessageFilter reused for every event."""
    filters = [EventMessageFilter(PATTERNS[k]).matches for k in row.keys]
    if len(filters) == 1:
        return filters[0]
    a, b, c, d = filters
    return lambda m: a(m) + b(m) + c(m) + d(m)


def _per_pattern_counts(keys: list[str], msgs: Sequence[str], f) -> list[int]:
    return [count(f(k), msgs) for k in keys]


def verify(row: Row, msgs: Sequence[str]) -> list[str]:
    """Compare our counts with the plain-Python checks; returns the problems found."""
    problems = []
    expected = _per_pattern_counts(row.keys, msgs, lambda k: CHECKS[k])
    got_matches = _per_pattern_counts(
        row.keys, msgs, lambda k: compile_pattern(PATTERNS[k]).matches
    )
    row.results["per_pattern"] = list(zip(row.keys, got_matches, expected, strict=True))
    for key, got, want in row.results["per_pattern"]:  # type: ignore[attr-defined]
        if got != want:
            problems.append(f"{key}: matches() counted {got}, independent check {want}")
    if row.shared is not None:
        events = [Event(m) for m in msgs]
        for key, want in zip(row.keys, expected, strict=True):
            got = count(compile_pattern(PATTERNS[key]).match_event, events)
            if got != want:
                problems.append(f"{key}: match_event() counted {got}, independent check {want}")
        checks = [CHECKS[k] for k in row.keys]
        row.results["expected_any"] = count(lambda m: any(c(m) for c in checks), msgs)
    else:
        row.results["expected_any"] = expected[0]
    return problems


# --- report --------------------------------------------------------------------------------


def _rate(x: float) -> str:
    return f"{x:,.0f}"


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x"


def _short(text: str) -> str:
    """A space-delimited pattern with each run of plain field names shown as one ``…``."""
    if not text.startswith("["):
        return text
    out: list[str] = []
    for position in text[1:-1].split(", "):
        plain = position.replace("_", "").isalnum()
        if not plain:
            out.append(position)
        elif not out or out[-1] != "…":
            out.append("…")
    return "[" + ", ".join(out) + "]"


def _code(text: str, width: int = 72, *, table: bool = False) -> str:
    """``text`` as inline code, truncated; ``|`` escaped when it goes into a table cell."""
    if len(text) > width:
        text = text[: width - 1] + "…"
    return "`" + (text.replace("|", "\\|") if table else text) + "`"


def machine_facts() -> list[str]:
    cpu = cpu_model()
    commit = git_commit()
    versions = package_versions(("orjson", "moto", "google-re2"))
    return [
        f"- date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M:%S UTC')}",
        f"- python: {platform.python_implementation()} {platform.python_version()}"
        f" ({sys.executable})",
        f"- cpu: {cpu}, {os.cpu_count()} logical CPUs; platform {platform.platform()}",
        f"- packages: {', '.join(versions)}; logsieve {commit or 'unknown commit'}",
    ]


TARGETS = {
    "moto": "term patterns at least as fast as moto's substring matcher",
    "parse": "JSON >= 80% of the orjson.loads-alone rate when every event must be parsed",
    "precheck": "JSON >= 2,000,000 events/s when a literal pre-check rules most events out",
    "space": "space-delimited >= 1,000,000 events/s on flow logs",
}


def judge(row: Row) -> tuple[str, bool] | None:
    """The row's target: what it is compared with, and whether it is met."""
    r = row.results
    rate = r["ours"]
    if row.target == "moto":
        if r["moto_matched"] != r["matched"]:
            # moto runs no substring matcher for this pattern (its prebuilt filter is a
            # constant True): the fair yardstick is the per-event form filter_log_events uses.
            goal = r["moto"]
            return (
                f"ours {_rate(rate)} vs moto per-event {_rate(goal)} ev/s (moto's prebuilt"
                " filter is a wrong constant True here, not a substring matcher)",
                rate >= goal,
            )
        goal = max(r["moto"], r["moto_prebuilt"])
        return f"ours {_rate(rate)} vs moto prebuilt {_rate(goal)} ev/s", rate >= goal
    if row.target == "parse":
        goal = 0.8 * r["floor"]
        return f"ours {_rate(rate)} vs 80% of orjson.loads {_rate(goal)} ev/s", rate >= goal
    if row.target == "precheck":
        return f"ours {_rate(rate)} vs 2,000,000 ev/s", rate >= 2_000_000
    if row.target == "space":
        return f"ours {_rate(rate)} vs 1,000,000 ev/s", rate >= 1_000_000
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000, help="events per dataset")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (best)")
    args = parser.parse_args(argv)
    n, repeat = args.events, args.repeat
    if n < 1 or repeat < 1:
        parser.error("--events and --repeat must be positive")

    started = time.perf_counter()
    rng = random.Random(SEED)
    progress(f"building datasets ({n:,} events each, seed {SEED}) ...")
    datasets = {
        "app": app_logs(rng, n),
        "flow": flow_logs(rng, n),
        "vpn-mixed": client_vpn(
            rng, n, {"successful": 10, "NA": 30, "failed": 40, "waiting-for-assertion": 20}
        ),
        "vpn-successful": client_vpn(rng, n, {"successful": 1}),
        "cloudtrail": cloudtrail(rng, n),
    }
    progress(f"  done in {time.perf_counter() - started:.1f}s")

    failures: list[str] = []
    table = rows()
    for i, row in enumerate(table, 1):
        msgs = datasets[row.dataset]
        progress(f"[{i}/{len(table)}] {row.kind} {row.label[:60]} on {row.dataset}")
        problems = verify(row, msgs)
        r = row.results
        r["problems"] = problems
        r["events"] = len(msgs)
        floor_name, floor = row.floor
        contenders = {
            "ours": ours(row),
            "moto": moto_per_event(row),
            "moto_prebuilt": moto_prebuilt(row),
            "floor": floor,
        }
        if row.reference is not None:
            contenders["reference"] = row.reference[1]
        rates = best_rates(contenders, msgs, repeat)
        for name, (rate, _) in rates.items():
            r[name] = rate
        r["matched"] = rates["ours"][1]
        r["moto_matched"] = rates["moto"][1]
        if r["matched"] != r["expected_any"]:
            problems.append(
                f"timed loop counted {r['matched']}, independent check {r['expected_any']}"
            )
        for problem in problems:
            progress(f"  WARNING: {problem}")
        failures += [f"{row.label} on {row.dataset}: {p}" for p in problems]
        progress(
            f"  ours {_rate(r['ours'])} ev/s, moto {_rate(r['moto'])}, "
            f"moto prebuilt {_rate(r['moto_prebuilt'])}, {floor_name} {_rate(r['floor'])}"
        )
    loop_rate = best_rates({"loop": LOOP_FLOOR[1]}, datasets["app"], repeat)["loop"][0]

    print("# logsieve filter-pattern benchmark\n")
    print(*machine_facts(), sep="\n")
    print(
        f"- {n:,} events per dataset, best of {repeat}, GC paused while timing; "
        f"the bare loop (`lambda m: True`) runs at {_rate(loop_rate)} events/s\n"
    )
    header = [
        "#",
        "kind",
        "pattern",
        "dataset",
        "events",
        "matched (ours)",
        "ours ev/s",
        "moto ev/s",
        "moto prebuilt ev/s",
        "moto matched",
        "ours/moto",
        "floor",
        "floor ev/s",
        "ours/floor",
    ]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for number, row in enumerate(table, 1):
        r = row.results
        print(
            "| "
            + " | ".join(
                [
                    str(number),
                    row.kind,
                    _code(_short(row.label), table=True) if row.shared is None else row.label,
                    row.dataset,
                    f"{r['events']:,}",
                    f"{r['matched']:,}",
                    _rate(r["ours"]),
                    _rate(r["moto"]),
                    _rate(r["moto_prebuilt"]),
                    f"{r['moto_matched']:,}",
                    _ratio(r["ours"], r["moto"]),
                    _code(row.floor[0], table=True),
                    _rate(r["floor"]),
                    _ratio(r["ours"], r["floor"]),
                ]
            )
            + " |"
        )
        for problem in r["problems"]:
            cells = ["**WARNING**", str(number), "**MATCH COUNT WRONG**", row.dataset, problem]
            cells += [""] * (len(header) - len(cells))
            print("| " + " | ".join(cells) + " |")

    print("\nPatterns in full (`…` in the table stands for plain field names):")
    for number, row in enumerate(table, 1):
        if row.shared is None:
            print(f"{number}. {_code(row.label, 200)}")
        else:
            print(f"{number}. {row.label}: the 4 patterns below")
    print(
        "\nShared-parse rows: `matched` counts events matched by at least one of the 4 patterns;"
        " moto builds and runs 4 filters per event. Per pattern (ours = independent check):"
    )
    shared_row = next(row for row in table if row.shared)
    for key, got, want in shared_row.results["per_pattern"]:
        print(f"- {_code(PATTERNS[key], 100)}: {got:,} (check {want:,})")

    print("\nRegex rows, for comparison only (not a floor):")
    for row in table:
        if row.reference is not None:
            print(
                f"- {_code(row.label)} on {row.dataset}: {row.reference[0]} (backtracking"
                f" engine) {_rate(row.results['reference'])} ev/s"
            )

    print("\nTargets:")
    print(*(f"- {text}" for text in TARGETS.values()), sep="\n")
    print()
    for number, row in enumerate(table, 1):
        verdict = judge(row)
        if verdict is not None:
            text, met = verdict
            print(
                f"- {'MET   ' if met else 'MISSED'} row {number}, {row.kind}"
                f" {_code(_short(row.label), 50)} "
                f"on {row.dataset}: {text}"
            )
    if failures:
        print("\n**WARNING: match counts disagree with the independent checks:**")
        for failure in failures:
            print(f"- {failure}")
    else:
        print("\nAll match counts agree with the independent plain-Python checks.")
    progress(f"total {time.perf_counter() - started:.1f}s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
