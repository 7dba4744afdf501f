"""``logsieve test-pattern`` end to end: arguments, files, stdin, output and exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from logsieve.cli import main

REJECT = (
    "[version, account_id, interface_id, srcaddr, dstaddr, srcport, dstport, protocol, "
    "packets, bytes, start, end, action = REJECT, log_status]"
)


def run(*args: str, stdin: str | None = None):
    return CliRunner().invoke(main, ["test-pattern", *args], input=stdin)


def test_space_pattern_on_flow_logs(samples: Path) -> None:
    log = samples / "vpc-flow-default.log"
    expected = sum(
        1
        for line in log.read_text().splitlines()
        if len(line.split()) == 14 and line.split()[12] == "REJECT"
    )
    result = run(REJECT, str(log))
    assert result.exit_code == 0
    assert f"{expected} of 200 events matched" in result.output
    assert "$action=REJECT" in result.output


def test_json_output_has_testmetricfilter_shape(samples: Path) -> None:
    result = run(
        "--json", '{ $.eventName = "StopLogging" }', str(samples / "cloudtrail-events.jsonl")
    )
    assert result.exit_code == 0
    document = json.loads(result.output)
    assert document["kind"] == "json"
    assert document["total"] == 80
    assert document["matched"] == len(document["matches"]) >= 1
    first = document["matches"][0]
    assert set(first) == {"eventNumber", "eventMessage", "extractedValues"}
    assert json.loads(first["eventMessage"])["eventName"] == "StopLogging"


def test_stdin_and_limit() -> None:
    result = run("--limit", "1", "ERROR", stdin="ERROR a\nINFO b\n\nERROR c\n")
    assert result.exit_code == 0
    assert "ERROR a" in result.output
    assert "ERROR c" not in result.output
    assert "2 of 3 events matched" in result.output  # the blank line is not an event


def test_jsonl_input_reads_message_field() -> None:
    lines = [json.dumps({"timestamp": 1, "message": m}) for m in ("ERROR x", "ok")]
    result = run("--jsonl", "ERROR", "-", stdin="\n".join(lines))
    assert result.exit_code == 0
    assert "1 of 2 events matched" in result.output


def test_jsonl_bad_line_is_a_clear_error() -> None:
    result = run("--jsonl", "ERROR", stdin='{"message": "a"}\nnot json\n')
    assert result.exit_code == 2
    assert "<stdin>, line 2: not JSON" in result.output


def test_no_match_exits_1() -> None:
    result = run("ERROR", stdin="INFO fine\n")
    assert result.exit_code == 1
    assert "0 of 1 events matched" in result.output


def test_invalid_pattern_shows_caret_and_exits_2() -> None:
    result = run("%something!%", stdin="x\n")
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert lines[0] == "Invalid filter pattern: Invalid character(s) in term '!'"
    assert lines[1] == "  %something!%"
    assert lines[2] == "  " + " " * "%something!%".index("!") + "^"


def test_missing_file_is_one_line() -> None:
    result = run("ERROR", "/nonexistent/app.log")
    assert result.exit_code == 2
    assert "No such file" in result.output
    assert "Traceback" not in result.output


def test_installed_console_script(samples: Path) -> None:
    exe = shutil.which("logsieve", path=str(Path(sys.executable).parent))
    assert exe, "the logsieve console script is installed next to the interpreter"
    done = subprocess.run(
        [exe, "test-pattern", "{ $.connection-attempt-status = failed }", "-"],
        input=(samples / "client-vpn-connections.jsonl").read_text(),
        capture_output=True,
        text=True,
        check=False,
    )
    records = [json.loads(line) for line in (samples / "client-vpn-connections.jsonl").open()]
    failed = sum(r["connection-attempt-status"] == "failed" for r in records)
    assert done.returncode == (0 if failed else 1)
    assert f"{failed} of {len(records)} events matched" in done.stdout


def test_help_explains_usage() -> None:
    result = CliRunner().invoke(main, ["test-pattern", "--help"])
    assert result.exit_code == 0
    assert "Exit status" in result.output and "--jsonl" in result.output
