"""The demo's ``logsieve.toml``: local channels and the three recipes, as a user would write it.

The alert rules come from the recipes (``logsieve.alerts.recipes``) and are written by the same
code as ``logsieve recipes add`` (templates in full, each table headed by the command that adds
it), so the file the demo leaves behind is one the user could have made with the CLI, and a
starting point for their own. The file is loaded back with ``load_config`` before the server
starts: a demo that writes a config logsieve refuses fails here, with the reason.
"""

from __future__ import annotations

import json
import shlex
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from logsieve.alerts import recipes
from logsieve.alerts.rule_file import add_tables
from logsieve.config import Config
from logsieve.sections import load_config

from .plan import ACCOUNT_ID, EMAIL_TO, REGION, WATCHED_USERS

__all__ = ["CONFIG_FILE", "DemoRules", "write_config"]

CONFIG_FILE = "logsieve.toml"


@dataclass(frozen=True)
class DemoRules:
    """Which alert rule sends through which channel (for the display and the summary)."""

    channel_of: dict[str, str]  # rule name -> channel name

    @property
    def names(self) -> list[str]:
        return list(self.channel_of)


def _toml(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(value)


def _header(port: int, smtp_url: str, datadog_url: str, api_key: str) -> str:
    return f"""\
# Written by `logsieve demo` on {time.strftime("%Y-%m-%d %H:%M:%S %Z")}; the next run rewrites it.
# Start the server on this data again with:  logsieve serve --config <this file>
# (the SMTP catcher and the Datadog receiver below only run while the demo does: alerts wait
# in the outbox until something listens there again).

[server]
host = "127.0.0.1"
port = {port}
data_dir = "."  # this directory: database, outbox, credentials.json

[aws]
region = {_toml(REGION)}
account_id = {_toml(ACCOUNT_ID)}

[smtp]
# The demo's SMTP catcher: every message goes to ./mail (a Maildir).
url = {_toml(smtp_url)}
sender = "logsieve@example.com"

[[channels]]
name = "email"
type = "email"
to = [{_toml(EMAIL_TO)}]

[[channels]]
name = "datadog"
type = "datadog"
# A made-up key, checked by the demo's local receiver as Datadog checks yours; api_url
# replaces site = "datadoghq.com" (the receiver appends each event to ./datadog-events.jsonl).
api_key = {_toml(api_key)}
api_url = {_toml(datadog_url)}
tags = ["env:demo"]
"""


def _command(recipe: str, group: str, channel: str, extra: Sequence[str] = ()) -> str:
    words = ["logsieve", "recipes", "add", recipe, "--log-group", group, "--channel", channel]
    return shlex.join([*words, *extra])


def _recipes(groups: dict[str, str]) -> list[tuple[list[dict[str, Any]], str]]:
    """(rule tables, the equivalent `logsieve recipes add` command) per recipe."""
    vpn, trail, flows = groups["client-vpn"], groups["cloudtrail"], groups["vpc-flow"]
    users = [word for user in WATCHED_USERS for word in ("--user", user)]
    return [
        (recipes.vpn_connections([vpn], ["email"]), _command("vpn-connections", vpn, "email")),
        (
            recipes.iam_user_activity([trail], ["email"], list(WATCHED_USERS)),
            _command("iam-user-activity", trail, "email", users),
        ),
        (
            recipes.rejected_traffic([flows], ["datadog"]),
            _command("rejected-traffic", flows, "datadog"),
        ),
    ]


def write_config(
    data_dir: Path,
    port: int,
    smtp_url: str,
    datadog_url: str,
    api_key: str,
    groups: dict[str, str],
) -> tuple[Path, Config, DemoRules]:
    """Write ``data_dir/logsieve.toml`` and return it, loaded, with the rule -> channel map.

    ``groups`` maps each simulator to its log group. Raises ConfigError if logsieve would
    refuse the file (a bug in the demo, reported as one line like any config mistake).
    """
    path = data_dir / CONFIG_FILE
    path.write_text(_header(port, smtp_url, datadog_url, api_key), encoding="utf-8")
    channel_of: dict[str, str] = {}
    for tables, command in _recipes(groups):
        path.write_text(add_tables(path, tables, False, command), encoding="utf-8")
        for table in tables:
            channel_of[table["name"]] = table["channels"][0]
    return path, load_config(path, environ={}), DemoRules(channel_of)
