"""``logsieve alerts list|test`` and ``logsieve recipes list|add``."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from logsieve.cli import main
from logsieve.sections import load_config

USER_CONFIG = """\
# logsieve for the office VPN -- keep this comment
[server]
port = 4600  # not the default port

[[alerts]]
name = "errors"  # hand-written rule
log_groups = ["app"]
pattern = "ERROR"
channels = ["ops"]
"""


def run(*args: str, input: bytes | str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), input=input)
    return result.exit_code, result.output


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "logsieve.toml"
    path.write_text(USER_CONFIG)
    return path


# --- recipes --------------------------------------------------------------------------------


def test_recipes_list_describes_every_recipe_and_option() -> None:
    code, output = run("recipes", "list")
    assert code == 0
    for name in ("vpn-connections", "iam-user-activity", "rejected-traffic"):
        assert name in output
    for flag in ("--user USER", "--write-only", "--flow-format FORMAT", "--failed-threshold N"):
        assert flag in output


def test_recipes_add_writes_valid_toml_and_keeps_the_users_file(config: Path) -> None:
    code, output = run(
        "recipes",
        "add",
        "vpn-connections",
        "--log-group",
        "/aws/clientvpn",
        "--channel",
        "slack",
        "--timezone",
        "Asia/Tokyo",
        "--config",
        str(config),
    )
    assert code == 0, output
    assert "Added 2 alert rules" in output and "vpn-connections-failed" in output
    assert "logsieve alerts test vpn-connections" in output
    assert "slack is not declared" in output
    text = config.read_text()
    assert text.startswith(USER_CONFIG)  # comments, order and formatting untouched
    document = tomllib.loads(text)
    assert [a["name"] for a in document["alerts"]] == [
        "errors",
        "vpn-connections",
        "vpn-connections-failed",
    ]
    loaded = load_config(config, environ={})
    assert loaded.port == 4600
    vpn = loaded.alerts[1]
    assert (vpn.timezone, vpn.dedup_window, vpn.log_groups) == (
        "Asia/Tokyo",
        86_400.0,
        ("/aws/clientvpn",),
    )
    assert '"""' in text  # templates stay readable, one line per line


def test_recipes_add_refuses_to_overwrite_unless_replace(config: Path) -> None:
    args = [
        "recipes",
        "add",
        "iam-user-activity",
        "--log-group",
        "trail",
        "--channel",
        "email",
        "--user",
        "alice",
        "--config",
        str(config),
    ]
    assert run(*args)[0] == 0
    before = config.read_text()
    code, output = run(*args)
    assert code == 2
    assert "already has an alert rule named 'iam-user-activity'; pass --replace" in output
    assert config.read_text() == before
    code, output = run(*args[:-2], "--write-only", "--replace", "--config", str(config))
    assert code == 0, output
    rules = load_config(config, environ={}).alerts
    assert [r.name for r in rules] == ["errors", "iam-user-activity"]
    assert "readOnly IS FALSE" in rules[1].pattern


def test_recipes_add_to_a_new_file_and_dry_run(tmp_path: Path) -> None:
    path = tmp_path / "new.toml"
    args = [
        "recipes",
        "add",
        "rejected-traffic",
        "--log-group",
        "flow",
        "--channel",
        "dd",
        "--port",
        "22",
        "--port",
        "23",
        "--config",
        str(path),
    ]
    code, output = run(*args, "--dry-run")
    assert code == 0 and not path.exists()
    assert "dstport = 22 || dstport = 23" in output
    assert run(*args)[0] == 0
    assert [r.name for r in load_config(path, environ={}).alerts] == [
        "rejected-traffic",
        "rejected-traffic-scan",
    ]


def test_recipes_add_custom_flow_format_from_a_file(tmp_path: Path, samples: Path) -> None:
    path = tmp_path / "logsieve.toml"
    fmt = samples / "vpc-flow-v5-custom.format"
    code, output = run(
        "recipes",
        "add",
        "rejected-traffic",
        "--log-group",
        "flow",
        "--channel",
        "dd",
        "--flow-format",
        f"@{fmt}",
        "--scan-ports",
        "0",
        "--config",
        str(path),
    )
    assert code == 0, output
    (rule,) = load_config(path, environ={}).alerts
    assert rule.flow_format == fmt.read_text().strip()
    assert "flow_direction" in rule.pattern


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["vpn-connections", "--user", "bob"], "--user does not apply to vpn-connections"),
        (["iam-user-activity"], "give at least one IAM user name"),
        (["vpn-connections", "--failed-window", "10 minutes"], "--failed-window must be a"),
        (["rejected-traffic", "--flow-format", "${version} ${bogus}"], "unknown flow log field"),
        (["vpn-connections", "--timezone", "Mars/Base"], "timezone is not a known IANA"),
    ],
)
def test_recipes_add_mistakes(config: Path, args: list[str], message: str) -> None:
    before = config.read_text()
    code, output = run(
        "recipes", "add", *args, "--log-group", "g", "--channel", "c", "--config", str(config)
    )
    assert code == 2
    assert message in output
    assert "Traceback" not in output
    assert config.read_text() == before


# --- alerts ---------------------------------------------------------------------------------


def test_alerts_list(config: Path) -> None:
    run(
        "recipes",
        "add",
        "rejected-traffic",
        "--log-group",
        "flow",
        "--channel",
        "dd",
        "--config",
        str(config),
    )
    code, output = run("alerts", "list", "--config", str(config))
    assert code == 0
    assert "errors  (warning)" in output
    assert "pattern:    ERROR" in output
    assert "digest per {{ flow.srcaddr }} every 1 h" in output
    assert "distinct 10 values of dstport per {{ flow.srcaddr }} within 10 min" in output
    code, output = run("alerts", "list", "--config", str(config), "--json")
    assert [r["name"] for r in json.loads(output)] == [
        "errors",
        "rejected-traffic",
        "rejected-traffic-scan",
    ]


def test_alerts_test_renders_without_sending(config: Path, samples: Path) -> None:
    run(
        "recipes",
        "add",
        "vpn-connections",
        "--log-group",
        "vpn",
        "--channel",
        "slack",
        "--config",
        str(config),
    )
    sample = samples / "client-vpn-connections.jsonl"
    code, output = run("alerts", "test", "vpn-connections", str(sample), "--config", str(config))
    assert code == 0, output
    assert "VPN: alice connected from 198.51.100.23" in output
    assert "to slack · info · 2025-03-10 08:00:18 UTC" in output
    assert output.rstrip().endswith("nothing was sent.")
    code, output = run(
        "alerts",
        "test",
        "vpn-connections",
        "-",
        "--config",
        str(config),
        "--json",
        input=sample.read_bytes(),
    )
    assert code == 0
    assert json.loads(output)[0]["channels"] == ["slack"]


def test_alerts_test_on_a_lambda_event(config: Path, samples: Path) -> None:
    run(
        "recipes",
        "add",
        "iam-user-activity",
        "--log-group",
        "trail",
        "--channel",
        "email",
        "--user",
        "ops-admin",
        "--config",
        str(config),
    )
    code, output = run(
        "alerts",
        "test",
        "iam-user-activity",
        str(samples / "lambda-event-cloudtrail.json"),
        "--config",
        str(config),
    )
    assert code == 0, output
    assert "ops-admin called StopLogging (cloudtrail)" in output
    assert "2 notifications from 3 events" in output


def test_alerts_test_nothing_and_mistakes(config: Path) -> None:
    code, output = run("alerts", "test", "errors", "-", "--config", str(config), input="INFO ok\n")
    assert code == 1 and "0 notifications from 1 events" in output
    code, output = run("alerts", "test", "nope", "-", "--config", str(config), input="x\n")
    assert code == 2 and "No alert rule named 'nope' in the config; rules: errors" in output
    config.write_text(USER_CONFIG + 'title = "{{ message }"\n')
    code, output = run("alerts", "list", "--config", str(config))
    assert code == 2
    assert "alert rule 'errors': title has a template syntax error on line 1" in output
    assert "Traceback" not in output
