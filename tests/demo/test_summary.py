"""The demo's closing lines: pasted into a shell, they set up the demo's own aws CLI profile."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

from logsieve.config import Config, Credential
from logsieve.demo.summary import SummaryFacts, summary_lines
from tests.cli.serving import user_env


def _facts(tmp_path: Path) -> SummaryFacts:
    return SummaryFacts(
        elapsed=3.0, seed=7, rate=1.0, counts=[], groups={}, rules=[], channel_of={},
        alerts_by_rule=Counter(), latencies={}, emails=0, datadog_events=0,
        data_dir=tmp_path, maildir=tmp_path / "mail", datadog_file=tmp_path / "dd.jsonl",
        config_path=tmp_path / "logsieve.toml", server_log=tmp_path / "server.log",
        config=Config(port=4599, data_dir=tmp_path),
        credential=Credential("AKIADEMODEMODEMODEMO", "demo-secret"), still_running=True,
    )  # fmt: skip


def test_demo_lines_do_not_touch_the_users_logsieve_profile(tmp_path: Path) -> None:
    """Pasting the demo's lines must not overwrite the profile `logsieve serve` set up."""
    lines = "\n".join(summary_lines(_facts(tmp_path))).splitlines()
    configure = [line for line in lines if line.startswith("aws configure set")]
    assert configure and all(line.endswith("--profile logsieve-demo") for line in configure)
    assert not [line for line in lines if "--profile logsieve " in f"{line} "]

    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "config").write_text("[profile logsieve]\nregion = eu-west-1\n")
    aws = Path(sys.executable).parent / "aws"
    script = "\n".join(line.replace("aws ", f"{aws} ", 1) for line in configure)
    env = user_env(home)
    subprocess.run(["bash", "-euc", script], env=env, check=True, timeout=60)
    got = subprocess.run(
        [aws, "configure", "get", "region", "--profile", "logsieve"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert got.stdout.strip() == "eu-west-1"
    demo = subprocess.run(
        [aws, "configure", "get", "endpoint_url", "--profile", "logsieve-demo"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert demo.stdout.strip() == "http://127.0.0.1:4599"


def test_the_summary_shows_the_alarms_path_and_the_flood_to_email_time(tmp_path: Path) -> None:
    from dataclasses import replace

    from logsieve.demo.alarm import Transition

    states = ["INSUFFICIENT_DATA", "OK", "ALARM", "OK"]
    transitions = [
        Transition("rejected-traffic-rate", old, new, "", 0)
        for old, new in zip(["(created)", *states], states, strict=False)
    ]
    facts = replace(
        _facts(tmp_path), alarm="rejected-traffic-rate", transitions=transitions,
        alarm_emails=[f'{s}: "rejected-traffic-rate" in US East (N. Virginia)' for s in states[1:]],
        alarm_latency_ms=8_640,
    )  # fmt: skip
    text = "\n".join(summary_lines(facts))
    assert (
        "alarm            rejected-traffic-rate: INSUFFICIENT_DATA -> OK -> ALARM -> OK; "
        "3 SNS emails in the Maildir:" in text
    )
    assert (
        '\n                     ALARM: "rejected-traffic-rate" in US East (N. Virginia)\n' in text
    )
    assert "flood accepted -> ALARM email: 8.6 s" in text
    assert "alarm  " not in "\n".join(summary_lines(_facts(tmp_path)))  # no alarm, no line
