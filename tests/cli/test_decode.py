"""``logsieve decode`` on AWS's sample delivery and on bad input."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from logsieve.cli import main


def test_decode_sample_file(samples: Path) -> None:
    result = CliRunner().invoke(main, ["decode", str(samples / "lambda-event-cloudtrail.json")])
    assert result.exit_code == 0
    assert json.loads(result.output) == json.loads(
        (samples / "lambda-event-cloudtrail.decoded.json").read_text()
    )


def test_decode_stdin_with_expanded_messages(samples: Path) -> None:
    raw = (samples / "lambda-event-cloudtrail.json").read_bytes()
    result = CliRunner().invoke(main, ["decode", "--expand", "-"], input=raw)
    assert result.exit_code == 0
    events = json.loads(result.output)["logEvents"]
    assert events[1]["message"]["eventName"] == "StopLogging"


def test_bad_input_is_one_clear_line() -> None:
    result = CliRunner().invoke(main, ["decode"], input=b'{"hello": 1}')
    assert result.exit_code == 2
    assert "not an awslogs envelope" in result.output
    assert "Traceback" not in result.output
