"""``[[alerts]]`` tables: every mistake is one line naming the file, the rule, the key and
the fix; good tables become AlertRule objects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from logsieve.alerts.config import AlertRule, check_channels, parse_alerts, parse_duration
from logsieve.errors import ConfigError
from logsieve.sections import load_config

FILE = Path("/etc/logsieve/logsieve.toml")
GOOD: dict[str, Any] = {
    "name": "vpn",
    "log_groups": ["/aws/clientvpn"],
    "channels": ["slack"],
    "pattern": '{ $.connection-attempt-status = "successful" }',
}


def _error(entries: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_alerts(FILE, entries)
    message = str(caught.value)
    assert "\n" not in message, message
    assert message.startswith(f"{FILE}: "), message
    return message


def test_a_good_rule() -> None:
    (rule,) = parse_alerts(
        FILE,
        [
            {
                **GOOD,
                "title": "{{ vpn.who }} connected",
                "severity": "info",
                "timezone": "Asia/Tokyo",
                "dedup_key": '{{ vpn["connection-id"] }}',
                "dedup_window": "2h",
                "digest_window": 600,
                "digest_group_by": "{{ vpn.who }}",
                "top_keys": ["device-type"],
            }
        ],
    )
    assert isinstance(rule, AlertRule)
    assert rule.log_groups == ("/aws/clientvpn",)
    assert rule.channels == ("slack",)
    assert (rule.dedup_window, rule.digest_window) == (7200.0, 600.0)
    assert rule.timezone == "Asia/Tokyo" and rule.severity == "info"
    assert rule.mode == "event" and rule.source == FILE


def test_threshold_and_distinct_tables() -> None:
    threshold, distinct = parse_alerts(
        FILE,
        [
            {
                **GOOD,
                "name": "t",
                "threshold": {"count": 5, "window": "10m", "group_by": "{{ vpn['device-ip'] }}"},
            },
            {**GOOD, "name": "d", "distinct": {"key": "dstport", "count": 10, "window": "1h"}},
        ],
    )
    assert threshold.mode == "threshold" and threshold.threshold is not None
    assert (threshold.threshold.count, threshold.threshold.window) == (5, 600.0)
    assert distinct.mode == "distinct" and distinct.distinct is not None
    assert (distinct.distinct.key, distinct.distinct.group_by) == ("dstport", None)
    # Aggregate rules get aggregate default templates (count, window), not the per-event ones.
    assert "count" in threshold.title


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({**GOOD, "name": None}, ["[[alerts]] entry 1", "name", "add name ="]),
        ({**GOOD, "name": "bad name!"}, ["[[alerts]] entry 1", '"bad name!"', "letters"]),
        ({**GOOD, "log_group": ["x"]}, ["'vpn'", "log_group", "did you mean 'log_groups'"]),
        ({k: v for k, v in GOOD.items() if k != "log_groups"}, ["'vpn'", "log_groups", "add"]),
        ({k: v for k, v in GOOD.items() if k != "channels"}, ["'vpn'", "channels", "add"]),
        ({**GOOD, "channels": []}, ["'vpn'", "channels", "non-empty array"]),
        ({**GOOD, "log_groups": [1]}, ["'vpn'", "log_groups", "non-empty strings"]),
        ({**GOOD, "pattern": "{ $.x = }"}, ["'vpn'", "pattern", "test-pattern"]),
        ({**GOOD, "severity": "warn"}, ["'vpn'", "severity", "did you mean 'warning'"]),
        ({**GOOD, "timezone": "Mars/Olympus"}, ["'vpn'", "timezone", "Europe/Paris"]),
        ({**GOOD, "dedup_key": "{{ x }}", "dedup_window": "10 minutes"}, ["dedup_window", '"10m"']),
        ({**GOOD, "dedup_window": "1h"}, ["dedup_window", "without dedup_key"]),
        ({**GOOD, "digest_window": 0}, ["digest_window", "more than 0"]),
        ({**GOOD, "digest_window": "40d"}, ["digest_window", "30 days"]),
        ({**GOOD, "digest_group_by": "{{ message }}"}, ["digest_group_by", "digest_window"]),
        ({**GOOD, "threshold": 5}, ["threshold", "must be a table", "count = 5"]),
        ({**GOOD, "threshold": {"count": 5}}, ["threshold", "missing window"]),
        ({**GOOD, "threshold": {"count": "5", "window": 60}}, ["threshold.count", "integer"]),
        ({**GOOD, "threshold": {"count": 5, "window": 60, "by": "x"}}, ["unknown key 'by'"]),
        ({**GOOD, "distinct": {"count": 5, "window": 60}}, ["distinct", "missing key"]),
        (
            {**GOOD, "threshold": {"count": 5, "window": 60}, "digest_window": 60},
            ["digest_window", "cannot be combined with threshold"],
        ),
        ({**GOOD, "title": "{{ vpn.who }"}, ["title", "syntax error on line 1"]),
        ({**GOOD, "body": "ok\n{% if x %}\nno end"}, ["body", "syntax error on line 3"]),
        ({**GOOD, "title": "{{ evnt.x }}"}, ["title", "unknown name 'evnt'", "'event'"]),
        ({**GOOD, "body": "{{ ''.__class__.__mro__ }}"}, ["body", "refused by the template"]),
        ({**GOOD, "tags": ["a:{{ top.__globals__ }}"]}, ["tags[0]", "refused"]),
        ({**GOOD, "top_keys": ["{{ bogus }}"]}, ["top_keys[0]", "unknown name 'bogus'"]),
        ({**GOOD, "flow_format": "${version} ${nope}"}, ["flow_format", "unknown flow log field"]),
    ],
)
def test_mistakes_are_one_line_naming_rule_key_and_fix(entry: Any, expected: list[str]) -> None:
    message = _error([entry])
    for part in expected:
        assert part in message, (part, message)


def test_duplicate_rule_names() -> None:
    message = _error([GOOD, GOOD])
    assert "'vpn' is declared twice" in message and "rename one" in message


def test_not_an_array_of_tables() -> None:
    assert "[[alerts]] tables (double brackets)" in _error({"name": "x"})


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (45, 45.0),
        (1.5, 1.5),
        ("600", 600.0),
        ("30s", 30.0),
        ("10m", 600.0),
        ("2h", 7200.0),
        ("1d", 86400.0),
        ("1h30m", 5400.0),
        (" 2 H ", 7200.0),
    ],
)
def test_durations(value: Any, seconds: float) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", [0, -5, "10x", "", "m", True, None, "31d", float("nan")])
def test_bad_durations(value: Any) -> None:
    with pytest.raises(ValueError, match=r"duration|more than 0"):
        parse_duration(value)


def test_channels_are_checked_against_declared_ones() -> None:
    rules = parse_alerts(FILE, [GOOD])
    check_channels(rules, ["slack", "email"])

    class Channel:
        name = "email"

    with pytest.raises(ConfigError) as caught:
        check_channels(rules, [Channel()])
    message = str(caught.value)
    assert "\n" not in message
    assert "alert rule 'vpn': channel 'slack' is not declared (declared: email)" in message
    assert '[[channels]] table with name = "slack"' in message


def test_load_config_reads_alerts_tables(tmp_path: Path) -> None:
    path = tmp_path / "logsieve.toml"
    path.write_text(
        '[[alerts]]\nname = "errors"\nlog_groups = ["app"]\npattern = "ERROR"\n'
        'channels = ["ops"]\nthreshold = { count = 3, window = "5m" }\n'
    )
    config = load_config(path, environ={})
    assert [rule.name for rule in config.alerts] == ["errors"]
    assert config.alerts[0].threshold.window == 300.0


def test_load_config_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "logsieve.toml"
    path.write_text(
        '[[alerts]]\nname = "errors"\nlog_groups = ["app"]\nchannels = ["ops"]\n'
        'title = "{{ message }"\n'
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert str(caught.value).startswith(f"{path}: alert rule 'errors': title has a template")
