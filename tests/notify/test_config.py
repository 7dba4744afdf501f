"""``[[channels]]`` tables: typed objects, and one clear line for each mistake."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from logsieve.errors import ConfigError
from logsieve.notify.channels import channel_kind
from logsieve.notify.config import ChannelConfig, parse_channels
from logsieve.sections import load_config

FULL = """
[smtp]
url = "smtp://127.0.0.1:2525"

[[channels]]
name = "ops-email"
type = "email"
to = ["ops@example.com", "Sec Team <sec@example.com>"]
sender = "alerts@example.com"

[[channels]]
name = "sec-slack"
type = "slack"
webhook_url = "https://hooks.slack.com/services/T000/B000/XXXX"

[[channels]]
name = "dd"
type = "datadog"
api_key = "0123456789abcdef"
site = "datadoghq.eu"
tags = ["env:prod"]
rate_per_minute = 120
retry_seconds = 3600

[[channels]]
name = "hook"
type = "webhook"
url = "https://example.com/hooks/logsieve"
secret = "s3cret"
headers = { Authorization = "Bearer abc" }

[[channels]]
name = "topic"
type = "sns"
topic_arn = "arn:aws:sns:us-east-1:123456789012:alerts"

[[channels]]
name = "teams"
type = "apprise"
url = "msteams://token_a/token_b/token_c"
"""


def load(tmp_path: Path, text: str) -> tuple[ChannelConfig, ...]:
    path = tmp_path / "logsieve.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, environ={"HOME": str(tmp_path)}).channels


def test_full_config_through_load_config(tmp_path: Path) -> None:
    channels = {c.name: c for c in load(tmp_path, FULL)}
    assert list(channels) == ["ops-email", "sec-slack", "dd", "hook", "topic", "teams"]
    email = channels["ops-email"]
    assert email.type == "email" and channel_kind(email.name) == "channel:ops-email"
    assert email.to == ("ops@example.com", "Sec Team <sec@example.com>")
    assert email.sender == "alerts@example.com"
    assert email.rate_per_minute is None and email.retry_seconds == 86_400
    assert channels["sec-slack"].rate_per_minute == 60  # Slack: one message a second
    dd = channels["dd"]
    assert (dd.api_key, dd.site, dd.tags, dd.rate_per_minute, dd.retry_seconds) == (
        "0123456789abcdef",
        "datadoghq.eu",
        ("env:prod",),
        120,
        3600,
    )
    hook = channels["hook"]
    assert hook.headers == (("Authorization", "Bearer abc"),)
    assert hook.secret == "s3cret"
    assert channels["topic"].topic_arn.endswith(":alerts")
    assert channels["teams"].url == "msteams://token_a/token_b/token_c"
    shown = repr(tuple(channels.values()))
    for secret in ("0123456789abcdef", "s3cret", "Bearer abc", "XXXX", "token_a"):
        assert secret not in shown


def entry(**keys: object) -> list[dict[str, object]]:
    return [keys]


P = Path("/etc/logsieve.toml")


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ({"name": "x"}, "channels must be [[channels]] tables (double brackets)"),
        ([{"name": "x"}], "entry 1 (x) is missing type; add type"),
        (entry(name="x", type="slak"), "did you mean 'slack'?"),
        (entry(name="x", type="pagerduty"), "use apprise for any other service"),
        (entry(type="slack", webhook_url="https://h"), "is missing name"),
        (entry(name="a b", type="slack", webhook_url="https://h"), "name must be 1-64"),
        (entry(name="x", type="slack"), "(type slack) is missing webhook_url"),
        (
            entry(name="x", type="slack", webhook_url="hooks.slack.com/x"),
            "webhook_url must be an http",
        ),
        (
            entry(name="x", type="slack", webhook_url="https://h", webhok_url="https://h"),
            "unknown key 'webhok_url' in [[channels]] entry 1 (x); did you mean 'webhook_url'?",
        ),
        (
            entry(name="x", type="slack", webhook_url="https://h", to=["a@b.c"]),
            "key 'to' does not apply to type slack (it is for email)",
        ),
        (entry(name="x", type="email", to=[]), "to must list at least one address"),
        (entry(name="x", type="email", to=["not-an-address"]), "must be an email address"),
        (entry(name="x", type="email", to=3), "to must be an array"),
        (entry(name="x", type="datadog", api_key="k", site="datadog.com"), "not a Datadog site"),
        (
            entry(name="x", type="datadog", api_key="k", api_url="ftp://x"),
            "api_url must be an http",
        ),
        (
            entry(name="x", type="datadog", api_key="k", tags="env:prod,x", rate_per_minute=0),
            "rate_per_minute",
        ),
        (entry(name="x", type="webhook", url="mailto:x"), "url must be an http"),
        (
            entry(name="x", type="webhook", url="https://h", headers={"X-Logsieve-Signature": "f"}),
            "must not set X-Logsieve-Signature",
        ),
        (entry(name="x", type="webhook", url="https://h", headers={"A": 1}), "header A must be"),
        (entry(name="x", type="sns", topic_arn="alerts"), "must be an SNS topic ARN"),
        (entry(name="x", type="apprise", url="discord"), "must be an apprise URL"),
        (
            entry(name="x", type="slack", webhook_url="https://h", rate_per_minute="60"),
            "(no quotes)",
        ),
        (entry(name="x", type="slack", webhook_url="https://h", retry_seconds=-1), "retry_seconds"),
        (
            [{"name": "x", "type": "slack", "webhook_url": "https://h"}] * 2,
            "channel name 'x' is used by more than one",
        ),
    ],
)
def test_mistakes_are_one_line_naming_file_table_and_key(raw: object, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_channels(P, raw)
    message = str(caught.value)
    assert words in message
    assert message.startswith("/etc/logsieve.toml: ")
    assert "\n" not in message


def test_secret_values_never_appear_in_errors() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_channels(P, entry(name="x", type="datadog", api_key="abc def"))
    assert "abc def" not in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        parse_channels(P, entry(name="x", type="slack", webhook_url="not a url, sekrit"))
    assert "sekrit" not in str(caught.value)


def test_a_single_address_string_is_accepted() -> None:
    [channel] = parse_channels(P, entry(name="x", type="email", to="ops@example.com"))
    assert channel.to == ("ops@example.com",)


def test_config_loading_imports_no_channel_libraries() -> None:
    code = (
        "import sys, logsieve.notify.config\n"
        "names = ('httpx', 'apprise', 'boto3', 'sqlite3', 'asyncio')\n"
        "heavy = [m for m in names if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
